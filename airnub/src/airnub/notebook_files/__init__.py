"""Notebook files kept tidy: cleaned before a commit (`clean`, the pre-commit hook), fresh copies for nbval."""
