"""VK-API-compatible sandbox: a real HTTP server over a generated, deterministic world.

Public entry points: :class:`SandboxConfig`, :class:`SandboxServer` (background thread,
context manager), :func:`serve` (blocking), :func:`create_app` (ASGI app). The sandbox
never imports Reflex or the database.
"""

from socstat.sandbox.config import SandboxConfig, TokenSpec, parse_fault, parse_token
from socstat.sandbox.runner import SandboxServer, serve
from socstat.sandbox.server import create_app

__all__ = [
    "SandboxConfig",
    "SandboxServer",
    "TokenSpec",
    "create_app",
    "parse_fault",
    "parse_token",
    "serve",
]
