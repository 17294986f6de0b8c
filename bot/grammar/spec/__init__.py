"""What a subcommand is and how it is called: the types every handler and frontend share."""
