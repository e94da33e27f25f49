"""Pure domain: messages, sessions, rendering and rules. Standard library only."""
