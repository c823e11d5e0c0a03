"""The few Prefect pieces every department shares."""
