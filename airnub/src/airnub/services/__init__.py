"""The processes the tool starts and manages: the Prefect server, the warm runner, the reports' server."""
