"""User roles (plain constants, importable without the database layer, e.g. by the CLI)."""

from typing import ClassVar


class Role:
    ANALYST = "analyst"
    DIRECTOR = "director"
    ADMIN = "admin"
    ALL = (ANALYST, DIRECTOR, ADMIN)
    LABELS: ClassVar[dict[str, str]] = {
        ANALYST: "Аналитик",
        DIRECTOR: "Руководитель",
        ADMIN: "Администратор",
    }
