import CoilNavCLI

CoilNavCommand.main()
