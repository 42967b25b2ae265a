"""Give a state under test the request cookies its websocket handshake would carry."""

from __future__ import annotations

from typing import Any

from reflex.istate.data import HeaderData

from socstat.services import sessions


def set_session_cookie(state: Any, token: str) -> None:
    """The state's router sees ``token`` in the ``Cookie`` header (as the backend would)."""
    cookie = f"{sessions.COOKIE_NAME}={token}" if token else ""
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    root.rx_router_headers = HeaderData(cookie=cookie)
