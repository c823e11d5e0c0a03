"""The tool's test kit: pytest fixtures (a plugin pytest loads by itself) and helpers a project's tests share."""
