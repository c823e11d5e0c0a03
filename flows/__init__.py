"""Everything Prefect: thin flows and task wrappers over the exported `airnub_prefect_starter` functions."""
