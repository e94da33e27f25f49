"""waconnect: a bridge between WhatsApp and Amazon Connect Chat."""

__version__ = "0.1.0"
