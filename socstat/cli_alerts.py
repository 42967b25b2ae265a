"""``socstat alerts evaluate``: check alert rules and system alerts now (what the
scheduler's alerts job does every few minutes), for operators and scripts."""

from __future__ import annotations

import argparse

from socstat.db import session_scope


def _cmd_evaluate(args: argparse.Namespace) -> int:
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


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("alerts", help="правила оповещений")
    sub = parser.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")
    evaluate = sub.add_parser("evaluate", help="проверить правила и системные оповещения сейчас")
    evaluate.set_defaults(handler=_cmd_evaluate)
