"""HTTP routes served by the Reflex backend (health, metrics, REST)."""
