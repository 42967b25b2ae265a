"""What the admin tabs share: the guarded service call, select options."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import reflex as rx
from sqlmodel import Session

from socstat.models.accounts import Role, User
from socstat.services import system_settings
from socstat.services.accounts import AccountError, UserView
from socstat.services.authz import PermissionDenied
from socstat.ui.auth import ROLE_LABELS, AuthState

ALL = "all"
NONE = "none"
ROLE_ITEMS = [(role, ROLE_LABELS[role]) for role in Role.ALL]


def user_option(item: UserView) -> dict[str, str]:
    """A user as a select/checklist option."""
    return {"id": str(item.id), "label": f"{item.name or item.email} ({item.email})"}


async def admin_call(state: AuthState, work: Callable[[Session, User], Any]) -> tuple[bool, Any]:
    """Run ``work`` as the current user: ``(True, result)`` or ``(False, event)`` — the
    event (redirect to sign-in or an error toast) is what the handler should return."""
    try:
        return True, await state._as_actor(work)
    except PermissionDenied as exc:
        return False, state._denied(exc)
    except (AccountError, system_settings.SettingsValidationError) as exc:
        return False, rx.toast.error(str(exc), duration=8000)


async def admin_change(
    state: AuthState,
    work: Callable[[Session, User], Any],
    reload: Callable[[], Awaitable[Any]],
    success: Any,
) -> Any:
    """:func:`admin_call` for a change: on success reload the tab and answer ``success``
    (an event or a list of them) unless reloading was refused; else the refusal."""
    ok, result = await admin_call(state, work)
    if not ok:
        return result
    return await reload() or success
