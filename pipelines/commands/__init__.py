"""One module per CLI subcommand: `register(parser)` adds its flags, `run(args)` does the work."""
