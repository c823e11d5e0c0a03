"""Tasks of the features category: thin wrappers over exported functions."""
