import ArgumentParser
import Foundation
import Formats

/// `coilnav export`: a session's pulse log as CSV, Localite TriggerMarkers XML or Brainsight text.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export the pulses of a session (pulses.jsonl) as CSV, Localite TriggerMarkers or Brainsight samples.",
        discussion: """
            csv: every field of every pulse, valid or not. localite: a TriggerMarkerList as Localite \
            TMS Navigator writes it (Localite coil axes, --localite-space RAS or LPS). brainsight: a \
            version-12 Brainsight text file with one Samples row per pulse (Brainsight coil axes, \
            NIfTI:Aligned). Both vendor formats read into SimNIBS (simnibs.utils.nnav). Pulses without \
            a valid coil pose are never written as a pose: they are listed in comments instead. \
            Coordinates are the plan's MRI space (RAS mm). The log is only read; an incomplete last \
            line (a crash while writing) is left out with a warning.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case csv, localite, brainsight
    }

    @Option(help: ArgumentHelp("Session directory holding pulses.jsonl.", valueName: "DIR"))
    var session: String?

    @Option(help: ArgumentHelp("The pulse log to export (instead of --session).", valueName: "FILE"))
    var pulses: String?

    @Option(help: "Output format.")
    var format: Format

    @Option(help: ArgumentHelp("Write here (atomically) instead of standard output.", valueName: "FILE"))
    var out: String?

    @Option(name: .customLong("localite-space"), help: "Localite coordinateSpace: RAS (as CoilNav stores it) or LPS (x and y negated).")
    var localiteSpace: String = "RAS"

    @Option(name: .customLong("session-name"), help: "Brainsight \"Session Name\" column.")
    var sessionName: String = "Session 1"

    func validate() throws {
        if (self.session == nil) == (self.pulses == nil) {
            throw ValidationError("give exactly one of --session DIR and --pulses FILE")
        }
        if PulseExport.LocaliteSpace(rawValue: self.localiteSpace.uppercased()) == nil {
            throw ValidationError("--localite-space must be RAS or LPS (got \(self.localiteSpace))")
        }
    }

    func run() throws {
        let path = self.pulses ?? URL(fileURLWithPath: self.session!).appendingPathComponent("pulses.jsonl").path
        let contents = try PulseLogContents.read(path: path)
        if let torn = contents.tornLastLine { printError("coilnav: warning: \(torn.description)") }
        let metadata = PulseExport.Metadata(
            generator: "CoilNav \(CoilNavCommand.configuration.version)", sessionName: self.sessionName,
            localiteSpace: PulseExport.LocaliteSpace(rawValue: self.localiteSpace.uppercased())!)
        let text: String
        switch self.format {
        case .csv: text = PulseExport.csv(contents.records)
        case .localite: text = PulseExport.localiteTriggerMarkers(contents.records, metadata: metadata)
        case .brainsight: text = PulseExport.brainsightSamples(contents.records, metadata: metadata)
        }
        if let out = self.out {
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
            } catch {
                throw CLIError("\(out): cannot write the file: \(error.localizedDescription)")
            }
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
