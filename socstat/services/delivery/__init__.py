"""Delivery: every outgoing message goes through the outbox; nothing is sent inline.

Owns the outbox (``outbox``: queue, claim one message at a time with a lease, retries,
failed messages), the channels a message can go out on (``channels``; ``email`` now,
SMS and Telegram register the same way later), the message templates (``templates``)
and every absolute link put into a message (``links``).

To send an email from a service, in the caller's unit of work::

    from socstat.services import delivery

    delivery.enqueue_email(
        session, to=user.email, template="reset", context={"user": user, "link": link}
    )

The scheduler's outbox job (and ``socstat outbox send``) delivers it after the commit.
"""

from socstat.services.delivery.channels import Attachment, save_attachment
from socstat.services.delivery.outbox import (
    DeliveryReport,
    OutboxItem,
    deliver_due,
    enqueue,
    enqueue_email,
    list_messages,
    retry_message,
    send_test_email,
)

__all__ = [
    "Attachment",
    "DeliveryReport",
    "OutboxItem",
    "deliver_due",
    "enqueue",
    "enqueue_email",
    "list_messages",
    "retry_message",
    "save_attachment",
    "send_test_email",
]
