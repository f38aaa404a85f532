import CoilNavCLI

await CoilNavCommand.main()
