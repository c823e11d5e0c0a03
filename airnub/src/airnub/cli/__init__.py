"""The `airnub` command: parsing, the commands, papermill's flags, and the one-line faults a command ends with."""
