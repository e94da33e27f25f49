"""Adapters implement the ports over real technology."""
