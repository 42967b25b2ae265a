"""The error a person can fix: a Russian message tagged with the input it concerns."""

from __future__ import annotations


class FieldError(Exception):
    """Refused input; ``str(exc)`` is a Russian message for the user and ``field`` names
    the input it concerns ("" when it concerns the whole form). Field names are the
    service's keyword arguments (``current_password``, ``new_email``, ``code``…); a form
    maps them to its inputs, never by reading the message."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field
