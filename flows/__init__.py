"""The departments of this project: one folder `dept_<id>` each, found by convention (see docs/layout.md)."""
