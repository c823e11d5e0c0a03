"""Tasks of the training category: thin wrappers over exported functions."""
