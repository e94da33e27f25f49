"""Parsing and building external payloads. Wire camelCase never leaves this package."""
