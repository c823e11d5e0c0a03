"""Scaffolding: the code behind scripts/generators/add_*.py and `airnub new` (names, templates, safe writing)."""
