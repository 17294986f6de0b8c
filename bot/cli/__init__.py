"""The ``modelgov`` command line, the console and the long-running processes it starts."""
