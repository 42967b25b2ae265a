"""``socstat sandbox serve``: argparse wiring for the sandbox server."""

from __future__ import annotations

import argparse
import contextlib
import re

from socstat.sandbox.config import (
    DEFAULT_QUOTAS,
    SandboxConfig,
    check_rate,
    parse_fault,
    parse_token,
)
from socstat.sandbox.state import parse_iso

_QUOTA = re.compile(r"([a-zA-Z]+\.[a-zA-Z]+)=([0-9]{1,9})")


def _arg(parse: object) -> object:
    """Wrap a parser so that ValueError becomes a clean argparse error."""

    def convert(text: str) -> object:
        try:
            return parse(text)  # type: ignore[operator]
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _positive(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 1_000_000:
        raise ValueError(f"must be within 1..1000000, got {value}")
    return value


def _seed(text: str) -> int:
    value = int(text)
    if not 0 <= value < 2**63:
        raise ValueError(f"seed must be within 0..2**63-1, got {text}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1e9:  # also rejects nan and inf
        raise ValueError(f"must be within 0..1e9, got {text}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError(f"port must be within 0..65535, got {value}")
    return value


def _quota(text: str) -> tuple[str, int]:
    match = _QUOTA.fullmatch(text)
    if not match:
        raise ValueError(f"bad quota {text!r}: expected METHOD=N, e.g. wall.get=5000")
    return match[1], int(match[2])


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``sandbox serve`` to the project CLI."""
    sandbox = subparsers.add_parser("sandbox", help="VK-API-compatible sandbox server")
    commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = commands.add_parser("serve", help="serve the sandbox over HTTP")
    add_serve_arguments(serve)
    serve.set_defaults(handler=run_serve)


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    add("--port", type=_arg(_port), default=8765, help="port (default 8765, 0 = any free)")
    add("--seed", type=_arg(_seed), default=1, help="world seed (default 1)")
    add("--communities", type=_arg(_positive), default=50, help="communities (default 50)")
    add("--days", type=_arg(_positive), default=90, help="days of history (default 90)")
    add("--now", type=_arg(parse_iso), default=None, help="initial world time, ISO (naive = UTC)")
    clock = parser.add_mutually_exclusive_group()
    clock.add_argument("--frozen", dest="running_clock", action="store_false", default=None)
    clock.add_argument("--running", dest="running_clock", action="store_true")
    add("--fault-rate", type=_arg(lambda t: check_rate(float(t))), default=0.0, metavar="R")
    add("--fault", type=_arg(parse_fault), action="append", default=[], metavar="KIND=RATE")
    add("--slow-seconds", type=_arg(_non_negative), default=30.0)
    add("--token", type=_arg(parse_token), action="append", default=[], metavar="[KIND:]TOKEN")
    add("--no-rate-limit", dest="rate_limit", action="store_false", help="disable the rps limit")
    add("--wall-get-quota", type=_arg(_non_negative), default=None, metavar="N")
    add("--quota", type=_arg(_quota), action="append", default=[], metavar="METHOD=N")


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    quotas = dict(DEFAULT_QUOTAS)
    quotas.update(dict(args.quota))
    if args.wall_get_quota is not None:
        quotas["wall.get"] = int(args.wall_get_quota)
    config = SandboxConfig(
        seed=args.seed,
        communities=args.communities,
        days=args.days,
        now=args.now,
        running_clock=args.running_clock,
        tokens=list(args.token),
        rate_limit=args.rate_limit,
        quotas=quotas,
        fault_rate=args.fault_rate,
        faults=dict(args.fault),
        slow_seconds=args.slow_seconds,
    )
    config.validate()
    return config


def run_serve(args: argparse.Namespace) -> int:
    from socstat.cli import CliError
    from socstat.sandbox.runner import serve

    try:
        config = config_from_args(args)
    except ValueError as exc:
        raise CliError(f"sandbox: {exc}") from None
    print(f"socstat sandbox on http://{args.host}:{args.port} (seed {config.seed})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C: uvicorn has shut down cleanly
        serve(config, host=args.host, port=args.port)
    return 0
