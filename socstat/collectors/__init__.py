"""Platform collectors: one package per platform behind the protocol in base.py."""
