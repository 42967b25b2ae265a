"""User roles (plain constants, importable without the database layer, e.g. by the CLI)."""


class Role:
    ANALYST = "analyst"
    DIRECTOR = "director"
    ADMIN = "admin"
    ALL = (ANALYST, DIRECTOR, ADMIN)
