"""``socstat outbox …``: deliver what is due now, list messages, re-queue a failed one."""

from __future__ import annotations

import argparse

MAX_ID = 2**31 - 1


def _outbox_id(value: str) -> int:
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise argparse.ArgumentTypeError(f"номер сообщения — целое от 1 до {MAX_ID}: {value!r}")
    return int(value)


def _cmd_send(args: argparse.Namespace) -> int:
    from socstat.services.delivery import deliver_due

    report = deliver_due()
    if report.busy:
        print("Доставка уже идёт в другом процессе; ничего не сделано.")
        return 0
    print(
        f"Отправлено: {len(report.sent)}, записано в журнал (SMTP не настроен): "
        f"{len(report.logged)}, будет повторено: {len(report.retrying)}, "
        f"не доставлено: {len(report.failed)}"
    )
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from socstat.cli import _cli_actor
    from socstat.db import session_scope
    from socstat.services.delivery import list_messages

    with session_scope() as session:
        items = list_messages(
            session, actor=_cli_actor(session, args.actor), failed_only=args.failed
        )
    if not items:
        print("Сообщений нет.")
        return 0
    print(f"{'id':>6}  {'канал':<8} {'получатель':<28} {'статус':<8} {'попытки':>7}  ошибка")
    for item in items:
        error = item.last_error.replace("\n", " ")[:80] or "—"
        print(
            f"{item.id:>6}  {item.channel:<8} {item.recipient:<28} {item.status:<8} "
            f"{item.attempts:>3}/{item.max_attempts:<3}  {error}"
        )
    return 0


def _cmd_retry(args: argparse.Namespace) -> int:
    from socstat.cli import CliError, _cli_actor
    from socstat.db import session_scope
    from socstat.services.delivery import retry_message

    with session_scope() as session:
        actor = _cli_actor(session, args.actor)
        if not retry_message(session, actor=actor, outbox_id=args.id, ip="cli"):
            raise CliError(f"нет недоставленного сообщения с номером {args.id}")
    print(f"Сообщение {args.id} снова в очереди.")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    outbox = commands.add_parser("outbox", help="исходящие сообщения (очередь доставки)")
    sub = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    sub.add_parser("send", help="доставить то, что пора, и показать итог").set_defaults(
        handler=_cmd_send
    )
    listing = sub.add_parser("list", help="последние сообщения")
    listing.add_argument("--failed", action="store_true", help="только недоставленные")
    listing.add_argument("--as", dest="actor", metavar="EMAIL", help="от имени администратора")
    listing.set_defaults(handler=_cmd_list)
    retry = sub.add_parser("retry", help="снова поставить недоставленное сообщение в очередь")
    retry.add_argument("id", type=_outbox_id)
    retry.add_argument("--as", dest="actor", metavar="EMAIL", help="от имени администратора")
    retry.set_defaults(handler=_cmd_retry)
