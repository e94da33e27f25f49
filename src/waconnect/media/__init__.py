"""Sniffing, conversion (PyAV) and transcription of files."""
