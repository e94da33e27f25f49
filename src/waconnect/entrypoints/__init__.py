"""Entrypoints: the CLI, the shared entry functions, and (later) Lambda handlers and the server."""
