"""Use cases: accounts, sources, collection, stats, … (no Reflex imports)."""
