"""Tasks of the evaluation category: thin wrappers over exported functions."""
