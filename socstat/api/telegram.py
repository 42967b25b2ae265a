"""``POST /api/telegram/webhook``: updates Telegram posts when the bot's webhook is on
(``socstat alerts telegram-webhook on``). Accepted only with the bot's secret in the
``X-Telegram-Bot-Api-Secret-Token`` header; ``/start <code>`` is handled exactly as when
polling (``services/alerts/contacts``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Request, Response

from socstat.db import session_scope
from socstat.services.alerts.contacts import receive_webhook
from socstat.services.delivery.telegram import WEBHOOK_PATH

MAX_BODY = 1_000_000

router = APIRouter()


def _receive(secret: str, update: Any) -> bool:
    with session_scope() as session:
        return receive_webhook(session, secret=secret, update=update)


@router.post(WEBHOOK_PATH, include_in_schema=False)
async def telegram_webhook(request: Request) -> Response:
    secret = request.headers.get("x-telegram-bot-api-secret-token", "")[:256]
    if not secret:
        return Response(status_code=403)
    body = await request.body()
    try:
        update = json.loads(body) if len(body) <= MAX_BODY else None
    except ValueError:
        update = None
    accepted = await asyncio.to_thread(_receive, secret, update)
    return Response(status_code=200 if accepted else 403)
