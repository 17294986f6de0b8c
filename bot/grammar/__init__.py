"""The command grammar every surface shares: the spec, and one handler per subcommand."""
