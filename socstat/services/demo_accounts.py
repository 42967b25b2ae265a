"""Demo accounts (admin, director, analyst): only in demo mode, random passwords.

Demo mode: SOCSTAT_ENV dev or demo and no VK token configured (neither SOCSTAT_VK_TOKENS
nor a token stored by an admin). Each account gets a random password when it is created;
the passwords are kept in the "demo_credentials" system setting so the login page can
show them while the installation stays in demo mode (never in production, where no demo
account is ever created).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from socstat.models.accounts import Role, Team, TeamMember, User
from socstat.models.system import ApiToken, SystemSetting
from socstat.services import accounts, audit
from socstat.services.passwords import generate_password
from socstat.settings import get_settings

DEMO_TEAM = "Демо-команда"
DEMO_CREDENTIALS = "demo_credentials"
DEMO_USERS = (
    ("admin@socstat.local", Role.ADMIN, "Администратор (демо)"),
    ("director@socstat.local", Role.DIRECTOR, "Директор (демо)"),
    ("analyst@socstat.local", Role.ANALYST, "Аналитик (демо)"),
)


class DemoRefused(Exception):
    """Not in demo mode; ``str(exc)`` says why (Russian)."""


@dataclass(frozen=True)
class DemoCredential:
    email: str
    role: str
    password: str  # "" when the account already existed (its password was shown before)
    created: bool


def demo_refusal(session: Session) -> str | None:
    """Why this installation is not in demo mode, or None when it is."""
    settings = get_settings()
    if settings.env not in ("dev", "demo"):
        return f"SOCSTAT_ENV={settings.env}: демо-учётные записи бывают только в dev и demo"
    if not settings.demo_mode:
        return "заданы VK-токены (SOCSTAT_VK_TOKENS): приложение работает с настоящим VK"
    stored = session.exec(select(ApiToken.id).where(ApiToken.platform == "vk")).first()
    if stored is not None:
        return "в настройках сохранены VK-токены: приложение работает с настоящим VK"
    return None


def _stored(session: Session) -> list[dict[str, str]]:
    row = session.get(SystemSetting, DEMO_CREDENTIALS)
    return list(row.value) if row is not None and isinstance(row.value, list) else []


def _remember(session: Session, user: User, password: str) -> None:
    row = session.get(SystemSetting, DEMO_CREDENTIALS) or SystemSetting(key=DEMO_CREDENTIALS)
    entries = [e for e in _stored(session) if e.get("email") != user.email]
    entries.append(
        {
            "email": user.email,
            "role": user.role,
            "password": password,
            # The login page stops showing it once the password is changed.
            "changed_at": str(user.password_changed_at),
        }
    )
    row.value = entries
    session.add(row)


def ensure_demo_users(session: Session) -> list[DemoCredential]:
    """Create the missing demo accounts (the analyst in the director's team) with random
    passwords; raises DemoRefused, creating nothing, when not in demo mode."""
    refusal = demo_refusal(session)
    if refusal is not None:
        raise DemoRefused(refusal)
    users: dict[str, User] = {}
    result = []
    for email, role, name in DEMO_USERS:
        user = accounts.get_user_by_email(session, email=email)
        password = ""
        if user is None:
            password = generate_password()
            user = accounts.create_user_record(
                session, email=email, role=role, name=name, password=password, check_policy=False
            )
            audit.record(
                session,
                actor=None,
                action="user.created",
                target_type="user",
                target_id=user.id or "",
                details={"email": email, "demo": True},
            )
            _remember(session, user, password)
        users[role] = user
        result.append(DemoCredential(email, role, password, created=bool(password)))
    _ensure_team(session, director=users[Role.DIRECTOR], analyst=users[Role.ANALYST])
    session.flush()
    return result


def _ensure_team(session: Session, *, director: User, analyst: User) -> None:
    team = session.exec(select(Team).where(Team.name == DEMO_TEAM)).first()
    if team is None:
        team = Team(name=DEMO_TEAM, director_id=director.id)
        session.add(team)
        session.flush()
    if session.get(TeamMember, (team.id, analyst.id)) is None:
        session.add(TeamMember(team_id=team.id or 0, user_id=analyst.id or 0))


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    password: str


def demo_logins(session: Session) -> list[DemoLogin]:
    """What the login page shows: demo accounts whose generated password still works.
    Empty outside demo mode."""
    if demo_refusal(session) is not None:
        return []
    entries = {e["email"]: e for e in _stored(session)}
    if not entries:
        return []
    users = session.exec(
        select(User).where(col(User.email).in_(entries), col(User.blocked_at).is_(None))
    ).all()
    return [
        DemoLogin(email=u.email, role=u.role, password=entries[u.email]["password"])
        for u in sorted(users, key=lambda u: [d[0] for d in DEMO_USERS].index(u.email))
        if entries[u.email].get("changed_at") == str(u.password_changed_at)
    ]
