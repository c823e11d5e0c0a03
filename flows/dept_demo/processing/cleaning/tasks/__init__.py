"""Tasks of the cleaning category: thin wrappers over exported functions."""
