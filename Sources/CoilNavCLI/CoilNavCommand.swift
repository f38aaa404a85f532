import ArgumentParser

/// The `coilnav` command: a headless neuronavigation tracking server for TMS and its tools.
public struct CoilNavCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "coilnav",
        abstract: "Neuronavigation for transcranial magnetic stimulation: registration, tracking and coil error.",
        version: "0.1.0",
        subcommands: [
            DemoCommand.self, RegisterCommand.self, CalibrateCommand.self, PlanCommand.self, BenchCommand.self,
            DevicesCommand.self, TrackCommand.self, MockTrackerCommand.self, ServeCommand.self, ExportCommand.self,
            QACommand.self,
            RecordCommand.self,
            WatchCommand.self,
        ]
    )

    public init() {}
}
