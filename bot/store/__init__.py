"""SQLite persistence: the only package that contains SQL."""
