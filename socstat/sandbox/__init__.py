"""VK-API-compatible sandbox: a real HTTP server over a generated, deterministic world.

Public entry points: :class:`SandboxConfig`, :class:`SandboxServer` (background thread,
context manager), :func:`serve` (blocking), :func:`create_app` (ASGI app). The sandbox
never imports Reflex or the database.
"""

from __future__ import annotations

import importlib
from typing import Any

from socstat.sandbox.config import SandboxConfig, TokenSpec, parse_fault, parse_token

# The server side (uvicorn, starlette, httpx) loads on first use, so `socstat --help`, whose
# `sandbox serve` arguments need only the config, stays quick.
_LAZY = {
    "SandboxServer": "socstat.sandbox.runner",
    "serve": "socstat.sandbox.runner",
    "create_app": "socstat.sandbox.server",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SandboxConfig",
    "SandboxServer",
    "TokenSpec",
    "create_app",
    "parse_fault",
    "parse_token",
    "serve",
]
