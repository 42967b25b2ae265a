"""Account flows, one module per use case:

- ``base``: error types, shared messages, email address rules, password policy check,
  queueing account emails and their rate limit;
- ``tokens``: single-use link tokens (confirmation, reset, invitation, email change);
- ``users``: creating user records without authorization checks, the plain user view;
- ``registration``: self-registration and email confirmation;
- ``signin``: sign-in (throttled, with two-factor), sign-out, ending own sessions;
- ``password``: changing one's password and resetting a forgotten one;
- ``invitations``: the invitation link and accepting it;
- ``email_change``: changing one's own email address;
- ``profile``: display name and time zone.

Sessions, two-factor, the sign-in throttle and the password hashing policy live beside
this package (``services/sessions.py``, ``twofactor.py``, ``throttle.py``,
``passwords.py``); the flows here use them.

Every function takes the caller's SQLModel session and leaves committing to the caller
(``session_scope``). Emails are queued in the outbox (``delivery``); the outbox job sends
them after the commit. Requests that send mail are rate-limited per IP and recipient.
User-facing messages are Russian; ``AccountError`` carries one. Messages never reveal
whether an email address has an account. Import from here
(``from socstat.services import accounts``); the modules are the package's inside.
"""

from socstat.services.accounts.base import (
    MAX_EMAIL_LENGTH,
    MSG_BAD_LINK,
    MSG_BLOCKED,
    MSG_CHECK_EMAIL,
    AccountError,
    WrongSecret,
    check_new_password,
    get_user_by_email,
    normalize_email,
    validate_email,
)
from socstat.services.accounts.email_change import (
    MSG_EMAIL_CHANGE_SENT,
    MSG_EMAIL_TAKEN,
    cancel_email_change,
    confirm_email_change,
    new_email_problem,
    pending_email_change,
    request_email_change,
)
from socstat.services.accounts.invitations import accept_invitation, send_invitation
from socstat.services.accounts.password import (
    MSG_RESET_SENT,
    change_password,
    request_password_reset,
    reset_password,
)
from socstat.services.accounts.profile import update_profile
from socstat.services.accounts.registration import confirm_email, register, resend_confirmation
from socstat.services.accounts.signin import (
    MSG_BAD_CODE,
    MSG_BAD_CREDENTIALS,
    MSG_UNCONFIRMED,
    SignInResult,
    authenticate,
    complete_two_factor,
    purge_login_attempts,
    revoke_my_session,
    sign_out,
    sign_out_everywhere,
)
from socstat.services.accounts.tokens import (
    CONFIRM,
    EMAIL_CHANGE,
    INVITE,
    LINK_PATHS,
    RESET,
    TOKEN_LIFETIMES,
    build_link,
    check_link_token,
    issue_token,
)
from socstat.services.accounts.users import UserView, create_user_record

__all__ = [
    "CONFIRM",
    "EMAIL_CHANGE",
    "INVITE",
    "LINK_PATHS",
    "MAX_EMAIL_LENGTH",
    "MSG_BAD_CODE",
    "MSG_BAD_CREDENTIALS",
    "MSG_BAD_LINK",
    "MSG_BLOCKED",
    "MSG_CHECK_EMAIL",
    "MSG_EMAIL_CHANGE_SENT",
    "MSG_EMAIL_TAKEN",
    "MSG_RESET_SENT",
    "MSG_UNCONFIRMED",
    "RESET",
    "TOKEN_LIFETIMES",
    "AccountError",
    "SignInResult",
    "UserView",
    "WrongSecret",
    "accept_invitation",
    "authenticate",
    "build_link",
    "cancel_email_change",
    "change_password",
    "check_link_token",
    "check_new_password",
    "complete_two_factor",
    "confirm_email",
    "confirm_email_change",
    "create_user_record",
    "get_user_by_email",
    "issue_token",
    "new_email_problem",
    "normalize_email",
    "pending_email_change",
    "purge_login_attempts",
    "register",
    "request_email_change",
    "request_password_reset",
    "resend_confirmation",
    "reset_password",
    "revoke_my_session",
    "send_invitation",
    "sign_out",
    "sign_out_everywhere",
    "update_profile",
    "validate_email",
]
