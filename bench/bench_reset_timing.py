"""Password reset and registration timing for known vs unknown addresses (``make bench-timing``).

    .venv/bin/python -m bench.bench_reset_timing [--rounds 15] [--no-doc]

Each call is one unit of work as the UI runs it: the service function plus the commit,
with production password hashing (SOCSTAT_ENV=dev parameters) on a fresh SQLite database
and a real SMTP server (aiosmtpd) on loopback. An answer that takes longer for one kind of
address than for the other tells an attacker which addresses have accounts. The medians go
to stdout and, unless ``--no-doc``, to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta

HEADING = "## Время ответа: восстановление пароля и регистрация (make bench-timing)"
PASSWORD = "Correct-Horse-Battery-9"


def _configure(tmp: str, smtp_port: int) -> None:
    os.environ.update(
        SOCSTAT_ENV="dev",
        SOCSTAT_DATA_DIR=tmp,
        SOCSTAT_DATABASE_URL=f"sqlite:///{tmp}/bench.db",
        SOCSTAT_SMTP_HOST="127.0.0.1",
        SOCSTAT_SMTP_PORT=str(smtp_port),
        SOCSTAT_SMTP_FROM="bench@socstat.local",
        # the benchmark measures the work, not the rate limiter
        SOCSTAT_RATE_LIMIT_IP="100000/minute",
        SOCSTAT_RATE_LIMIT_RECIPIENT="100000/minute",
    )


def _medians_ms(
    first: Callable[[int], None], second: Callable[[int], None], rounds: int
) -> tuple[float, float]:
    """Median milliseconds of each call, the two interleaved so that load drifts hit both."""
    first(-1)  # warm-up (imports, caches, first connection)
    second(-1)
    samples: tuple[list[float], list[float]] = ([], [])
    for i in range(rounds):
        for call, kept in zip((first, second), samples, strict=True):
            start = time.perf_counter()
            call(i)
            kept.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples[0]), statistics.median(samples[1])


def run(rounds: int) -> dict[str, float]:
    from socstat.db import session_scope
    from socstat.migrations import upgrade_database
    from socstat.models.base import utcnow
    from socstat.services import accounts

    upgrade_database()
    with session_scope() as session:
        accounts.create_user_record(session, email="known@example.com", password=PASSWORD)
    start = utcnow()

    def reset(email: str) -> Callable[[int], None]:
        def call(i: int) -> None:
            # two minutes apart: the one-mail-a-minute rule never cuts the known path short
            moment = start + timedelta(minutes=2 * (i + 2))
            with session_scope() as session:
                accounts.request_password_reset(session, email=email, now=moment)

        return call

    def register(taken: bool) -> Callable[[int], None]:
        def call(i: int) -> None:
            email = "known@example.com" if taken else f"new{i + 1}@example.com"
            with session_scope() as session:
                accounts.register(session, email=email, password=PASSWORD)

        return call

    reset_known, reset_unknown = _medians_ms(
        reset("known@example.com"), reset("nobody@example.com"), rounds
    )
    register_taken, register_new = _medians_ms(register(True), register(False), rounds)
    return {
        "Восстановление пароля, адрес есть": reset_known,
        "Восстановление пароля, адреса нет": reset_unknown,
        "Регистрация, адрес занят": register_taken,
        "Регистрация, новый адрес": register_new,
    }


def _section(results: dict[str, float], rounds: int, load: tuple[float, float]) -> str:
    rows = "\n".join(f"| {name} | {ms:.1f} |" for name, ms in results.items())
    return (
        f"{HEADING}\n\n"
        "Команда: `make bench-timing` (`python -m bench.bench_reset_timing`). Медиана "
        f"{rounds} вызовов (сервис + commit; известный и неизвестный адрес чередуются), "
        "хеширование паролей как в продакшене, SQLite, SMTP-сервер aiosmtpd на loopback. "
        f"Загрузка машины (load average за минуту) до/после: {load[0]:.1f} / {load[1]:.1f} "
        f"при {os.cpu_count()} ядрах.\n\n"
        f"| Сценарий | Медиана, мс |\n|---|---|\n{rows}\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args(argv)
    from tests.smtp import SmtpServer

    server = SmtpServer()
    server.start()
    load_before = os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            _configure(tmp, server.port)
            results = run(args.rounds)
    finally:
        server.stop()
    section = _section(results, args.rounds, (load_before, os.getloadavg()[0]))
    print(section)
    if not args.no_doc:
        from bench.bench_collect import _write_doc

        _write_doc(section, HEADING)
    return 0


if __name__ == "__main__":
    sys.exit(main())
