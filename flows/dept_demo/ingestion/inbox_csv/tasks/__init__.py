"""Tasks of the inbox_csv category: thin wrappers over exported functions."""
