"""Use cases: what the bridge does with a customer message, an agent event, a status."""
