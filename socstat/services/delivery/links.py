"""Links: the one place that turns a path into an absolute URL of this installation.

Every link in a message (confirmation, reset, invitation, report, alert) is built here
from ``SOCSTAT_BASE_URL`` (``make run`` sets it to match ``PORT``).
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from socstat.settings import get_settings


def url(path: str = "/", **query: str) -> str:
    """``{SOCSTAT_BASE_URL}{path}`` with an optional query string."""
    base = get_settings().base_url.rstrip("/")
    suffix = f"?{urlencode(query)}" if query else ""
    return f"{base}/{path.lstrip('/')}{suffix}"


def host() -> str:
    """The installation's host name (the domain of generated Message-IDs)."""
    return urlsplit(get_settings().base_url).hostname or "socstat.local"
