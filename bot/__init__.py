"""modelgov's adapters: everything that speaks to people (Slack, console, CLI)."""
