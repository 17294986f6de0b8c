"""The top of governance: the collaborators a process runs with, built once, and its schedule."""
