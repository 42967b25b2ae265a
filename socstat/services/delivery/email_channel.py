"""The email channel: builds a MIME message (plain text, HTML, attachments) from a claimed
outbox row and sends it over SMTP (database settings first, then the environment). With
no SMTP server configured the message is written to the log instead and noted as such.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import sys
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from sqlmodel import Session

from socstat.services.delivery.channels import DeliveryError, OutgoingMessage
from socstat.services.system_settings import SmtpConfig, smtp_config
from socstat.settings import get_settings

log = logging.getLogger(__name__)

EMAIL = "email"
SMTP_TIMEOUT_SECONDS = 15
LOG_NOTE = "SMTP не настроен: письмо записано в журнал, не отправлено"


class EmailChannel:
    name = EMAIL

    def send(self, session: Session, message: OutgoingMessage) -> str:
        config = smtp_config(session)
        if config is None:
            _write_to_log(message)
            return LOG_NOTE
        send_email(config, build_message(message, from_addr=config.from_addr))
        return ""

    def mask(self, recipient: str) -> str:
        local, _, domain = recipient.partition("@")
        return f"{local[:2]}***@{domain}" if domain else f"{recipient[:2]}***"


def build_message(message: OutgoingMessage, *, from_addr: str) -> EmailMessage:
    """UTF-8 email: plain text, the HTML alternative and attachments when present."""
    email = EmailMessage()
    email["From"] = from_addr
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = message.message_id
    email.set_content(message.body)
    html = message.payload.get("html")
    if html:
        email.add_alternative(html, subtype="html")
        html_part = email.get_body(preferencelist=("html",))
        for item in message.payload.get("inline", []):  # images the HTML shows as cid:…
            maintype, _, subtype = item["content_type"].partition("/")
            html_part.add_related(  # type: ignore[union-attr]
                _read(item), maintype=maintype, subtype=subtype, cid=f"<{item['cid']}>"
            )
    for item in message.payload.get("attachments", []):
        maintype, _, subtype = item["content_type"].partition("/")
        email.add_attachment(
            _read(item), maintype=maintype, subtype=subtype, filename=item["filename"]
        )
    return email


def _read(item: dict[str, str]) -> bytes:
    path = Path(item["path"])
    if not path.is_file():
        raise DeliveryError(f"вложение {item['filename']} не найдено", permanent=True)
    return path.read_bytes()


def send_email(config: SmtpConfig, email: EmailMessage) -> None:
    """Send one email now; DeliveryError with the reason (permanent when the server
    refused the recipient or the message for good)."""
    try:
        if config.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host,
                config.port,
                timeout=SMTP_TIMEOUT_SECONDS,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=SMTP_TIMEOUT_SECONDS)
        with client:
            if config.starttls and not config.ssl:
                client.starttls(context=ssl.create_default_context())
            if config.user:
                client.login(config.user, config.password)
            client.send_message(email)
    except smtplib.SMTPRecipientsRefused as exc:
        permanent = all(code >= 500 for code, _ in exc.recipients.values())
        raise DeliveryError(f"{type(exc).__name__}: {exc}", permanent=permanent) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


def _write_to_log(message: OutgoingMessage) -> None:
    """The log formatter masks ``token=…`` in links; in dev/demo the full text also goes
    to stderr so that confirmation and reset links can be followed locally."""
    text = f"кому: {message.recipient}; тема: {message.subject}\n{message.body}\n[конец письма]"
    log.warning("[ПИСЬМО НЕ ОТПРАВЛЕНО — SMTP не настроен] %s", text)
    if get_settings().env in ("dev", "demo"):
        print(f"[ПИСЬМО (dev), SMTP не настроен] {text}", file=sys.stderr, flush=True)
