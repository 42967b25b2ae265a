"""Reflex pages, components and states — thin shells over socstat.services."""
