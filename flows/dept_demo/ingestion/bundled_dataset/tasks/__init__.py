"""Tasks of the bundled_dataset category: thin wrappers over exported functions."""
