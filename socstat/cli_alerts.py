"""``socstat alerts …``: check alert rules now (what the scheduler's alerts job does every
few minutes); set the SMS gateway and the Telegram bot (secrets read from stdin)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from socstat.db import session_scope
    from socstat.models import utcnow
    from socstat.services.alerts import evaluate_due
    from socstat.services.alerts.system import check_system

    now = utcnow()
    with session_scope() as session:
        result = evaluate_due(session, now=now)
        system = check_system(session, now=now)
    print(
        f"Сработало: {len(result.fired)}, снова в норме: {len(result.resolved)}, "
        f"пропущено (неизвестные данные): {len(result.skipped)}, сводок: {result.digests}, "
        f"системных оповещений: {len(system)}"
    )
    return 0


def _secret(args: argparse.Namespace, what: str) -> str | None:
    """The secret from stdin's first line with ``--*-stdin``; None keeps the stored one."""
    if not args.secret_stdin:
        return None
    value = sys.stdin.readline().strip()
    if not value:
        from socstat.cli import CliError

        raise CliError(f"{what}: пустая строка на stdin")
    return value


def _change_as_actor(
    args: argparse.Namespace,
    change: Callable[..., Any],
    errors: type[Exception],
    *,
    secret: tuple[str, str] | None = None,
    **fields: Any,
) -> Any:
    """``change(session, actor=…, ip="cli", **fields)`` as ``--as`` (default: the first
    admin) in one transaction, with ``secret`` = (argument, what) read from stdin after the
    actor; ``errors`` and a denial become the command's error."""
    from socstat.cli import CliError, _cli_actor
    from socstat.db import session_scope
    from socstat.services.authz import PermissionDenied

    try:
        with session_scope() as session:
            actor = _cli_actor(session, args.actor)
            if secret is not None:
                fields[secret[0]] = _secret(args, secret[1])
            return change(session, actor=actor, ip="cli", **fields)
    except (errors, PermissionDenied) as exc:
        raise CliError(str(exc)) from None


def _cmd_sms_gateway(args: argparse.Namespace) -> int:
    from socstat.services.delivery import sms

    _change_as_actor(
        args,
        sms.set_gateway,
        sms.SmsSettingsError,
        secret=("api_key", "API-ключ"),
        base_url=args.url,
        sender=args.sender,
        daily_cap=args.daily_cap,
    )
    print("SMS-шлюз сохранён.")
    return 0


def _cmd_telegram_bot(args: argparse.Namespace) -> int:
    from socstat.services.delivery import telegram

    _change_as_actor(
        args,
        telegram.set_bot,
        telegram.TelegramSettingsError,
        secret=("token", "токен"),
        username=args.username,
        base_url=args.url,
    )
    print("Telegram-бот сохранён.")
    return 0


def _cmd_telegram_webhook(args: argparse.Namespace) -> int:
    from socstat.services.delivery import telegram

    address = _change_as_actor(
        args, telegram.set_webhook, telegram.TelegramSettingsError, enabled=args.state == "on"
    )
    if args.state == "on":
        print(f"Вебхук включён: Telegram присылает обновления на {address}.")
    else:
        print("Вебхук выключен: обновления забирает планировщик (getUpdates).")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("alerts", help="правила оповещений")
    sub = parser.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")
    evaluate = sub.add_parser("evaluate", help="проверить правила и системные оповещения сейчас")
    evaluate.set_defaults(handler=_cmd_evaluate)
    gateway = sub.add_parser("sms-gateway", help="SMS-шлюз (API как у SMS.ru)")
    gateway.add_argument("--url", required=True, help="адрес шлюза, например https://sms.ru")
    gateway.add_argument("--sender", default="", help="имя отправителя")
    gateway.add_argument("--daily-cap", type=int, default=20, help="SMS в сутки на номер")
    gateway.add_argument(
        "--key-stdin",
        dest="secret_stdin",
        action="store_true",
        help="прочитать API-ключ из первой строки stdin",
    )
    gateway.add_argument("--as", dest="actor", metavar="EMAIL", help="от имени администратора")
    gateway.set_defaults(handler=_cmd_sms_gateway)
    bot = sub.add_parser("telegram-bot", help="бот Telegram для оповещений")
    bot.add_argument("--username", required=True, help="имя бота, например socstat_bot")
    bot.add_argument("--url", default="https://api.telegram.org", help="адрес Bot API")
    bot.add_argument(
        "--token-stdin",
        dest="secret_stdin",
        action="store_true",
        help="прочитать токен из первой строки stdin",
    )
    bot.add_argument("--as", dest="actor", metavar="EMAIL", help="от имени администратора")
    bot.set_defaults(handler=_cmd_telegram_bot)
    webhook = sub.add_parser(
        "telegram-webhook", help="получать обновления бота вебхуком (on) или опросом (off)"
    )
    webhook.add_argument("state", choices=("on", "off"))
    webhook.add_argument("--as", dest="actor", metavar="EMAIL", help="от имени администратора")
    webhook.set_defaults(handler=_cmd_telegram_webhook)
