"""Emulated End User Messaging, Amazon Connect and S3 on 127.0.0.1, and ``replay``."""
