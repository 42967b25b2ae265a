"""``python -m socstat.sandbox [serve options]``: run the sandbox without the project CLI."""

from __future__ import annotations

import argparse

from socstat.sandbox.cli import add_serve_arguments, run_serve


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m socstat.sandbox")
    add_serve_arguments(parser)
    return run_serve(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
