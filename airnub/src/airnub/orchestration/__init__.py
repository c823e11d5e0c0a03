"""The Prefect glue every project's flows use: cached tasks, the notebook task and flows, configs, locks, plans."""
