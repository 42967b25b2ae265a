"""The `socstat` command: a thin shell over the services."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import NoReturn

Handler = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit code 2."""


@contextmanager
def _loading() -> Iterator[None]:
    """Import without garbage collection, then freeze what was loaded: SQLAlchemy, pydantic
    and the models make many long-lived objects and no garbage, and the collector's passes
    over them cost about a seventh of the start-up (main() unfreezes when called in-process).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()  # else the first pass after this one scans everything loaded
        if enabled:
            gc.enable()


class _Parser(argparse.ArgumentParser):
    """Bad arguments: one line on stderr (no usage block), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: ошибка: {message} (см. {self.prog} --help)\n")


def _cmd_migrate(args: argparse.Namespace) -> int:
    from socstat.migrations import upgrade_database
    from socstat.settings import get_settings

    upgrade_database()
    print(f"База данных обновлена: {_safe_url(get_settings().effective_database_url)}")
    return 0


def _cmd_check_config(args: argparse.Namespace) -> int:
    from socstat.settings import get_settings

    settings = get_settings()
    print("Конфигурация в порядке.")
    print(f"  база данных: {_safe_url(settings.effective_database_url)}")
    print(f"  часовой пояс: {settings.timezone}")
    vk_mode = "песочница (демо-данные)" if settings.demo_mode else "VK API"
    print(f"  VK: {vk_mode}, {settings.effective_vk_api_url}")
    print(f"  почта: {settings.smtp_host or 'не настроена (письма пишутся в журнал)'}")
    print(f"  ключ шифрования: {_describe_key()}")
    return 0


def _describe_key() -> str:
    """Where the secret key comes from — never its value."""
    from socstat.crypto import current_secret_key, key_origin

    current_secret_key()  # outside prod: generates the key file on first use
    origin = key_origin()
    where = "SOCSTAT_SECRET_KEY" if origin.source == "env" else f"сгенерирован, файл {origin.path}"
    previous = f"; прежних ключей для чтения: {origin.previous}" if origin.previous else ""
    return where + previous


def _cmd_secrets_rotate(args: argparse.Namespace) -> int:
    from socstat.db import session_scope
    from socstat.services.secrets import rotate_secrets

    with session_scope() as session:
        report = rotate_secrets(session)
    labels = {
        "vk_token": "токены VK",
        "smtp_password": "пароль SMTP",
        "sms_api_key": "API-ключ SMS-шлюза",
        "telegram_token": "токен Telegram-бота",
        "totp_secret": "секреты 2FA",
    }
    print(f"Секреты перешифрованы текущим ключом ({_describe_key()}):")
    for kind, count in report.kinds.items():
        print(
            f"  {labels[kind]}: перешифровано {count.rotated}, "
            f"не расшифровываются {count.unreadable}"
        )
    if report.unreadable:
        print(
            "Нерасшифровываемые секреты оставлены как есть (см. журнал аудита, "
            "secret.unreadable): добавьте токены заново, сбросьте 2FA этим пользователям."
        )
        return 1
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    import asyncio

    from socstat.demo import seed_demo
    from socstat.services.demo_accounts import DemoRefused

    try:
        seed = asyncio.run(seed_demo())
    except DemoRefused as exc:
        if args.if_demo_mode:
            print(f"Демо-данные не создаются: {exc}.")
            return 0
        raise CliError(f"демо-режим недоступен: {exc}; демо-учётные записи не созданы") from None
    _print_demo_credentials(seed.credentials)
    print(f"Демо-сообществ добавлено: {seed.sources_added}, собрано впервые: {seed.collected}")
    return 0


def _print_demo_credentials(credentials: list) -> None:
    fresh = [item for item in credentials if item.created]
    if fresh:
        print("Демо-пользователи созданы (пароли показываются здесь один раз и на странице входа")
        print("— пока приложение в демо-режиме):")
        for item in fresh:
            print(f"  {item.role:<9} {item.email:<28} пароль: {item.password}")
    else:
        print("Демо-пользователи уже есть; их пароли — на странице входа.")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --- sources, collection, statistics, worker ------------------------------------------
#
# The CLI is run by the server's operator, so it acts as an administrator: the account
# named by --as EMAIL, else the first active admin (lowest id). Collection runs are system
# runs (no actor, trigger "cli"). `sources add` subscribes --user EMAIL (default: the acting
# admin); an admin may add sources for any user.


def _local_time(moment: datetime | None) -> str:
    """A stored UTC moment in SOCSTAT_TIMEZONE (dd.mm.yyyy HH:MM), or "" when there is none."""
    if moment is None:
        return ""
    from socstat import formatting
    from socstat.settings import get_settings

    return f"{formatting.moment(moment, None)} ({get_settings().timezone})"


def _cli_actor(session, email: str | None = None):  # type: ignore[no-untyped-def]
    from socstat.services import admin

    if email:
        return _find_user(session, email)
    actor = admin.first_active_admin(session)
    if actor is None:
        raise CliError("нет ни одного администратора; создайте его или укажите --as EMAIL")
    return actor


def _find_user(session, email: str):  # type: ignore[no-untyped-def]
    from socstat.services import accounts

    user = accounts.get_user_by_email(session, email=email)
    if user is None:
        raise CliError(f"пользователь {email} не найден")
    return user


def _run_async(coro):  # type: ignore[no-untyped-def]
    import asyncio

    return asyncio.run(coro)


def _cmd_sources_add(args: argparse.Namespace) -> int:
    from socstat.db import session_scope
    from socstat.services.authz import PermissionDenied
    from socstat.services.collection import make_collector
    from socstat.services.sources import AddOutcome, check_can_subscribe, resolve_links, subscribe

    async def _resolve() -> list:
        collector = make_collector()
        try:
            return await resolve_links(collector, args.links)
        finally:
            await collector.aclose()

    try:
        with session_scope() as session:
            user_id = _find_user(session, args.user).id if args.user else None
            check_can_subscribe(session, actor=_cli_actor(session, args.actor), user_id=user_id)
        resolved = _run_async(_resolve())
        with session_scope() as session:
            actor = _cli_actor(session, args.actor)
            results = subscribe(session, actor=actor, resolved=resolved, user_id=user_id, ip="cli")
    except (PermissionDenied, LookupError) as exc:
        raise CliError(str(exc)) from None
    labels = {AddOutcome.ADDED: "добавлен", AddOutcome.ALREADY: "уже отслеживается"}
    for result in results:
        if result.outcome == AddOutcome.ERROR:
            print(f"{result.link}: ошибка — {result.message}")
        else:
            print(f"{result.link}: {labels[result.outcome]} — #{result.source_id} {result.name}")
    return 1 if any(r.outcome == AddOutcome.ERROR for r in results) else 0


def _cmd_sources_list(args: argparse.Namespace) -> int:
    from socstat.db import session_scope
    from socstat.services.sources import list_sources

    with session_scope() as session:
        rows = list_sources(session, actor=_cli_actor(session, args.actor))
    if not rows:
        print("Источников нет.")
        return 0
    for row in rows:
        collected = _local_time(row.last_collected_at) or "ещё не собирался"
        flags = " (устарело)" if row.stale else ""
        print(
            f"#{row.id}\t{row.screen_name}\t{row.name}\t{row.status}{flags}\t"
            f"подписчиков: {row.members_count if row.members_count is not None else '—'}\t"
            f"сбор: {collected}"
        )
    return 0


def _cmd_collect(args: argparse.Namespace) -> int:
    with _loading():
        from socstat.db import session_scope
        from socstat.services.alerts.hooks import install as install_alerts_hook
        from socstat.services.collection import (
            CollectionBusy,
            Trigger,
            collect_due_sources,
            collect_sources,
            make_collector,
            tracked_source_ids,
        )

    install_alerts_hook()

    async def _collect():  # type: ignore[no-untyped-def]
        collector = make_collector()
        try:
            if args.sources or args.all:
                if args.sources:
                    ids = args.sources
                else:
                    with session_scope() as session:
                        ids = tracked_source_ids(session)
                return await collect_sources(
                    source_ids=ids, collector=collector, trigger=Trigger.CLI
                )
            return await collect_due_sources(collector=collector, trigger=Trigger.CLI)
        finally:
            await collector.aclose()

    # Everything loaded so far lives until the command ends: keep the garbage collector's
    # passes during the run (its records make many) off it (main() unfreezes in-process).
    gc.freeze()
    try:
        summary = _run_async(_collect())
    except CollectionBusy as exc:
        print(f"Сбор не запущен. {exc}")
        return 0
    if summary is None:
        print("Нет источников, которым пора обновиться.")
        return 0
    print(f"Сбор #{summary.run_id}: {summary.status}")
    print(
        f"  источники: успешно {summary.sources_ok}, частично {summary.sources_partial}, "
        f"с ошибкой {summary.sources_failed}"
    )
    print(f"  публикации: новых {summary.items_new}, обновлено {summary.items_updated}")
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(summary.errors_by_code.items())) or "нет"
    print(f"  запросов {summary.requests}, вызовов API {summary.calls}, ошибки API: {errors}")
    print(f"  длительность: {summary.duration_seconds:.1f} с")
    if summary.error:
        print(f"  ошибка: {summary.error}")
    return 1 if summary.sources_failed or summary.status == "failed" else 0


MAX_DB_ID = 2**31 - 1  # INTEGER primary keys on PostgreSQL


def _db_id(text: str) -> int:
    """A row id argument: a positive integer that fits the database's id column."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_DB_ID:
        raise argparse.ArgumentTypeError(
            f"неверный id {text!r}: нужно целое число от 1 до {MAX_DB_ID}"
        )
    return int(value)


def _parse_date(text: str):  # type: ignore[no-untyped-def]
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"неверная дата {text!r}, нужен формат ГГГГ-ММ-ДД"
        ) from None


_STATS_FIGURES = ("likes", "reposts", "comments", "views")


def _cmd_stats(args: argparse.Namespace) -> int:
    import csv

    from socstat.db import session_scope
    from socstat.services.analytics import AnalyticsError, Period, Scope, source_series
    from socstat.services.authz import PermissionDenied

    kinds = tuple(dict.fromkeys(args.kinds)) if args.kinds else ("post", "video", "clip")
    sources = tuple(args.sources) if args.sources else None
    try:
        with session_scope() as session:
            actor = _cli_actor(session, args.actor)
            period = Period.custom(args.date_from, args.date_to)
            by_kind = {
                kind: source_series(
                    session,
                    actor=actor,
                    scope=Scope(source_ids=sources, kinds=(kind,)),
                    period=period,
                )
                for kind in kinds
            }
    except (AnalyticsError, PermissionDenied) as exc:
        raise CliError(str(exc)) from None
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["source_id", "screen_name", "date", "kind", "count", *_STATS_FIGURES])
    rows = [
        (line.source, point, kind)
        for kind, lines in by_kind.items()
        for line in lines
        for point in line.series.points
    ]
    rows.sort(key=lambda r: (r[0].id, r[1].start, r[2]))
    for source, point, kind in rows:
        values = [point.publications, *(getattr(point, f).value for f in _STATS_FIGURES)]
        cells = ["" if v is None else v for v in values]
        writer.writerow([source.id, source.screen_name, point.start.isoformat(), kind, *cells])
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    from socstat.scheduler import run_worker

    print("socstat worker: сбор и планировщик запущены (Ctrl+C или SIGTERM — остановка).")
    _run_async(run_worker())
    return 0


def _register_collection(commands: argparse._SubParsersAction) -> None:
    sources = commands.add_parser("sources", help="отслеживаемые сообщества")
    sub = sources.add_subparsers(dest="sources_command", required=True, metavar="ACTION")
    add = sub.add_parser("add", help="добавить сообщества по ссылкам")
    add.add_argument("links", nargs="+", metavar="LINK", help="ссылка, screen name или id")
    add.add_argument("--user", metavar="EMAIL", help="чей это источник (по умолчанию — админ)")
    add.add_argument("--as", dest="actor", metavar="EMAIL", help="действовать от имени админа")
    add.set_defaults(handler=_cmd_sources_add)
    listing = sub.add_parser("list", help="список источников")
    listing.add_argument("--as", dest="actor", metavar="EMAIL", help="от имени пользователя")
    listing.set_defaults(handler=_cmd_sources_list)

    collect = commands.add_parser("collect", help="собрать статистику (по умолчанию — пора)")
    which = collect.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="все отслеживаемые источники")
    which.add_argument(
        "--source",
        dest="sources",
        type=_db_id,
        action="append",
        metavar="ID",
        help="источник по id (можно несколько раз)",
    )
    collect.set_defaults(handler=_cmd_collect)

    stats = commands.add_parser(
        "stats",
        help="дневная статистика (CSV): каждый день, пусто — нет данных; дни по SOCSTAT_TIMEZONE",
    )
    stats.add_argument(
        "--from", dest="date_from", type=_parse_date, required=True, metavar="ГГГГ-ММ-ДД"
    )
    stats.add_argument(
        "--to", dest="date_to", type=_parse_date, required=True, metavar="ГГГГ-ММ-ДД"
    )
    stats.add_argument("--source", dest="sources", type=_db_id, action="append", metavar="ID")
    stats.add_argument("--kind", dest="kinds", action="append", choices=("post", "video", "clip"))
    stats.add_argument("--format", choices=("csv",), default="csv")
    stats.add_argument("--as", dest="actor", metavar="EMAIL", help="от имени пользователя")
    stats.set_defaults(handler=_cmd_stats)

    commands.add_parser("worker", help="сбор и планировщик без веб-интерфейса").set_defaults(
        handler=_cmd_worker
    )


# --- users ----------------------------------------------------------------------------


def _cmd_users_create(args: argparse.Namespace) -> int:
    from socstat.db import session_scope
    from socstat.services import admin
    from socstat.services.accounts import AccountError

    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else None
    try:
        with session_scope() as session:
            created = admin.create_user(
                session,
                actor=None,
                email=args.email,
                role=args.role,
                name=args.name or "",
                password=password,
                operator=True,
            )
    except AccountError as exc:
        raise CliError(str(exc)) from None
    print(f"Пользователь создан: {created.user.email} ({created.user.role})")
    if created.password is not None:
        print(f"Пароль (показывается один раз): {created.password}")
    return 0


def _cmd_users_list(args: argparse.Namespace) -> int:
    from socstat.db import session_scope
    from socstat.services import admin

    users: list[admin.AdminUser] = []
    with session_scope() as session:
        while True:  # every user, a page of MAX_PAGE at a time
            page = admin.list_users(
                session, actor=None, limit=admin.MAX_PAGE, offset=len(users), operator=True
            )
            users += page.items
            if not page.items or len(users) >= page.total:
                break
    if not users:
        print("Пользователей нет.")
    for user in users:
        flags = []
        if user.blocked:
            flags.append("заблокирован")
        if not user.confirmed:
            flags.append("не подтверждён")
        if user.totp_enabled:
            flags.append("2FA")
        last = _local_time(user.last_login_at) or "—"
        extra = f" [{', '.join(flags)}]" if flags else ""
        print(f"{user.id:>5}  {user.email:<40} {user.role:<9} вход: {last}{extra}")
    return 0


def _cmd_users_set_role(args: argparse.Namespace) -> int:
    from socstat.db import session_scope
    from socstat.services import admin
    from socstat.services.accounts import AccountError

    try:
        with session_scope() as session:
            user_id = admin.find_user_id(session, actor=None, email=args.email, operator=True)
            change = admin.set_role(
                session, actor=None, user_id=user_id, role=args.role, operator=True
            )
    except AccountError as exc:
        raise CliError(str(exc)) from None
    print(f"Роль {change.user.email}: {change.old_role} → {change.user.role}")
    return 0


def _cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from socstat.services.backup import BackupError, create_backup, verify_backup

    try:
        if args.verify:
            checked = verify_backup(Path(args.verify))
            if not checked.ok:
                for table, (expected, got) in checked.mismatches.items():
                    print(f"  {table}: в копии {expected}, восстановлено {got}")
                print(f"Копия {checked.path} НЕ прошла проверку", file=sys.stderr)
                return 1
            print(
                f"Копия {checked.path} в порядке: восстановлена во временную базу, "
                f"{checked.tables} таблиц, {checked.rows} строк совпадают"
            )
            return 0
        made = create_backup(out=Path(args.out) if args.out else None)
    except BackupError as exc:
        raise CliError(str(exc)) from exc
    manifest = made.manifest
    print(
        f"Резервная копия: {made.path} ({manifest.size_bytes} байт, {manifest.dialect}, "
        f"схема {manifest.schema_revision or '—'}, строк {sum(manifest.row_counts.values())})"
    )
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from socstat.services.backup import BackupError, restore_backup
    from socstat.settings import get_settings

    try:
        revision = restore_backup(Path(args.path), force=args.force)
    except BackupError as exc:
        raise CliError(str(exc)) from exc
    url = _safe_url(get_settings().effective_database_url)
    print(f"Восстановлено в {url} (схема копии {revision or '—'}), миграции применены")
    return 0


def _register_backup(commands: argparse._SubParsersAction) -> None:
    backup = commands.add_parser("backup", help="резервная копия базы данных")
    what = backup.add_mutually_exclusive_group()
    what.add_argument("--out", metavar="PATH", help="файл или папка (по умолчанию data/backups)")
    what.add_argument(
        "--verify", metavar="PATH", help="проверить копию: восстановить во временную базу"
    )
    backup.set_defaults(handler=_cmd_backup)
    restore = commands.add_parser("restore", help="восстановить базу из резервной копии")
    restore.add_argument("path", metavar="PATH")
    restore.add_argument("--force", action="store_true", help="восстановить поверх непустой базы")
    restore.set_defaults(handler=_cmd_restore)


def _register_users(commands: argparse._SubParsersAction) -> None:
    from socstat.roles import Role

    users = commands.add_parser("users", help="пользователи")
    sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    create = sub.add_parser("create", help="создать пользователя (без подтверждения почты)")
    create.add_argument("--email", required=True)
    create.add_argument("--role", required=True, choices=Role.ALL)
    create.add_argument("--name", default="")
    create.add_argument(
        "--password-stdin", action="store_true", help="прочитать пароль из stdin (иначе создать)"
    )
    create.set_defaults(handler=_cmd_users_create)
    sub.add_parser("list", help="список пользователей").set_defaults(handler=_cmd_users_list)
    set_role = sub.add_parser("set-role", help="сменить роль")
    set_role.add_argument("--email", required=True)
    set_role.add_argument("--role", required=True, choices=Role.ALL)
    set_role.set_defaults(handler=_cmd_users_set_role)


# --- reports --------------------------------------------------------------------------


def _id_list(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"неверный список id {text!r}, нужно 12,15") from None
    if not ids:
        raise argparse.ArgumentTypeError("пустой список id")
    return ids


def _iso_moment(text: str) -> datetime:
    from datetime import UTC

    from socstat.settings import get_settings

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"неверный момент {text!r}, нужен ISO 8601, например 2026-12-01T07:00:00+00:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=get_settings().tz).astimezone(UTC)


def _cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from socstat.db import session_scope
    from socstat.services.authz import PermissionDenied
    from socstat.services.reports.builder import ReportRequest, build_request_data
    from socstat.services.reports.generation import ReportError, make_scope, render

    out = Path(args.out)
    if not out.parent.is_dir():
        raise CliError(f"папка {out.parent} не существует")
    try:
        with session_scope() as session:
            user = _find_user(session, args.user)
            data = build_request_data(
                session,
                actor=user,
                request=ReportRequest(
                    kind=args.kind,
                    start=args.date_from,
                    end=args.date_to,
                    scope=make_scope(source_ids=args.sources, tags=args.tags or ()),
                ),
            )
    except (PermissionDenied, ReportError, LookupError, ValueError) as exc:
        raise CliError(str(exc)) from None
    content = render(data, args.format)
    out.write_bytes(content)
    print(f"Отчёт {data.period_label} ({args.format}, {len(content)} байт): {out}")
    return 0


def _cmd_reports_run_due(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from socstat.services.reports.schedule import run_due

    window = None if args.window_days is None else timedelta(days=args.window_days)
    result = run_due(now=args.at, window=window)
    print(
        f"Отчётов по расписанию создано: {len(result.created)}, "
        f"сформировано: {len(result.generated)}"
    )
    return 0


def _register_reports(commands: argparse._SubParsersAction) -> None:
    from socstat.report_kinds import ReportKind

    report = commands.add_parser("report", help="сформировать отчёт в файл")
    report.add_argument("--user", required=True, metavar="EMAIL", help="чей отчёт")
    report.add_argument("--kind", required=True, choices=ReportKind.ALL)
    report.add_argument("--from", dest="date_from", type=_parse_date, metavar="ГГГГ-ММ-ДД")
    report.add_argument("--to", dest="date_to", type=_parse_date, metavar="ГГГГ-ММ-ДД")
    report.add_argument("--sources", type=_id_list, metavar="ID,ID")
    report.add_argument(
        "--tags", type=lambda text: [t for t in text.split(",") if t.strip()], metavar="T,T"
    )
    report.add_argument("--format", required=True, choices=("xlsx", "csv", "pdf"))
    report.add_argument("--out", required=True, metavar="FILE")
    report.set_defaults(handler=_cmd_report)

    reports = commands.add_parser("reports", help="отчёты по расписанию")
    sub = reports.add_subparsers(dest="reports_command", required=True, metavar="ACTION")
    due = sub.add_parser("run-due", help="сформировать отчёты, время которых пришло")
    due.add_argument(
        "--at", type=_iso_moment, metavar="ISO-8601", help="момент (по умолчанию — сейчас)"
    )
    due.add_argument(
        "--window-days",
        type=float,
        metavar="ДНИ",
        help="за сколько дней догонять пропущенные (по умолчанию SOCSTAT_REPORTS_CATCH_UP_DAYS)",
    )
    due.set_defaults(handler=_cmd_reports_run_due)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="socstat", description="socstat — статистика сообществ")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("migrate", help="применить миграции базы данных").set_defaults(
        handler=_cmd_migrate
    )
    commands.add_parser("check-config", help="проверить настройки").set_defaults(
        handler=_cmd_check_config
    )
    demo = commands.add_parser(
        "demo", help="демо-пользователи и демо-данные (только в демо-режиме; для make run)"
    )
    demo.add_argument(
        "--if-demo-mode",
        action="store_true",
        help="вне демо-режима ничего не делать и выйти с кодом 0 (для make run)",
    )
    demo.set_defaults(handler=_cmd_demo)
    secrets_parser = commands.add_parser("secrets", help="хранимые секреты")
    secrets_sub = secrets_parser.add_subparsers(
        dest="secrets_command", required=True, metavar="ACTION"
    )
    secrets_sub.add_parser(
        "rotate", help="перешифровать все секреты текущим SOCSTAT_SECRET_KEY"
    ).set_defaults(handler=_cmd_secrets_rotate)
    for register in _registrars():
        register(commands)
    return parser


def _registrars() -> list[Callable[[argparse._SubParsersAction], None]]:
    """Command groups that live beside the code they drive."""
    from socstat.cli_alerts import register as register_alerts
    from socstat.cli_outbox import register as register_outbox
    from socstat.sandbox.cli import register as register_sandbox

    return [
        register_sandbox,
        _register_collection,
        _register_users,
        _register_backup,
        register_outbox,
        register_alerts,
        _register_reports,
    ]


def main(argv: Sequence[str] | None = None) -> int:
    try:
        with _loading():
            args = build_parser().parse_args(argv)
            # not needed for --help, so imported only now
            from sqlalchemy.exc import InterfaceError, OperationalError

            from socstat.settings import SettingsError, get_settings
        try:
            with _loading():
                get_settings()
                from socstat.logging_setup import configure_logging

                configure_logging()
            return args.handler(args)
        except (SettingsError, CliError) as exc:
            print(f"Ошибка: {exc}", file=sys.stderr)
            return 2
        except (OperationalError, InterfaceError) as exc:
            print(f"Ошибка: {_database_failure(exc)}", file=sys.stderr)
            return 1
    finally:
        if argv is None:  # the process's own command line: it exits next
            _exit_light()
        else:  # called in-process (the tests): leave the collector as it was
            gc.unfreeze()


def _exit_light() -> None:
    """Let the interpreter exit without walking every object the command loaded (the
    models, SQLAlchemy, the services: 0.5–2 s of garbage collection at shutdown on this
    machine). Exit handlers, flushing and closing still run as usual."""
    gc.freeze()


def _database_failure(exc: Exception) -> str:
    """One line naming the database's host (never its password)."""
    from sqlalchemy.engine import make_url

    from socstat.settings import get_settings

    url = make_url(get_settings().effective_database_url)
    if url.get_backend_name() == "sqlite":
        where = url.database or ":memory:"
    else:
        where = f"{url.host}:{url.port or 5432}"
    lines = str(getattr(exc, "orig", exc)).strip().splitlines()
    reason = lines[0] if lines else type(exc).__name__
    if url.password:
        reason = reason.replace(url.password, "***")
    return (
        f"база данных {where} недоступна или не готова ({reason}); проверьте SOCSTAT_DATABASE_URL"
    )


if __name__ == "__main__":
    sys.exit(main())
