"""Ports over SQLite and the filesystem."""
