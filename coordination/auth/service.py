"""Every change to accounts and tokens, each appended to the event log.

Login attempts are counted in the database rather than in process memory so
the limit holds across several server processes and across restarts.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .. import events
from ..config import SUPPORTED_LOCALES
from ..contexts import LIVE
from ..db import utcnow
from ..errors import Conflict, NotAuthenticated, NotFound, TooManyAttempts, ValidationFailed
from ..events import Actor
from ..extensions import db
from .models import ApiToken, LoginAttempt, User, UserRole
from .passwords import (
    MIN_LENGTH,
    hash_password,
    needs_rehash,
    new_token,
    token_digest,
    verify_password,
)
from .principal import Principal
from .roles import Role, parse_roles

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
ADMIN_ONLY = ["role:admin"]
TOKEN_USE_RESOLUTION = timedelta(minutes=5)


def _principal_of(user: User) -> Principal:
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        display_name=user.display_name,
        roles=user.roles,
        locale=user.locale,
    )


def _roles_or_error(roles: list[str] | frozenset[Role]) -> frozenset[Role]:
    try:
        parsed = parse_roles([str(r) for r in roles])
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    if not parsed:
        raise ValidationFailed(_l("At least one role is required."))
    return parsed


def _check_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(
            _l("The password must have at least %(n)d characters.", n=MIN_LENGTH)
        )


def create_user(
    *,
    username: str,
    display_name: str,
    password: str,
    roles: list[str] | frozenset[Role],
    actor: Actor,
    locale: str | None = None,
) -> Principal:
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise ValidationFailed(
            _l("A username is 2 to 64 letters, digits, dots, dashes or underscores.")
        )
    parsed = _roles_or_error(roles)
    _check_password(password)
    if locale is not None and locale not in SUPPORTED_LOCALES:
        raise ValidationFailed(_l("Unknown language."))
    with db.unit_of_work() as s:
        if s.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
            raise Conflict(_l("The username %(name)s is taken.", name=username))
        user = User(
            username=username,
            display_name=display_name.strip() or username,
            password_hash=hash_password(password),
            locale=locale,
            role_rows=[UserRole(role=r.value) for r in sorted(parsed)],
        )
        s.add(user)
        s.flush()
        events.append(
            s, context=LIVE, type="user.created", actor=actor, audience=ADMIN_ONLY,
            subject=("user", user.id),
            payload={"username": user.username, "display_name": user.display_name,
                     "roles": sorted(r.value for r in parsed)},
        )
        return _principal_of(user)


def _failures(s: Session, column: Any, value: str, window: timedelta) -> int:
    since = utcnow() - window
    last_success = s.scalar(
        select(func.max(LoginAttempt.at)).where(column == value, LoginAttempt.success.is_(True))
    )
    floor = max(since, last_success) if last_success else since
    return s.scalar(
        select(func.count()).where(
            column == value, LoginAttempt.success.is_(False), LoginAttempt.at > floor
        )
    ) or 0


def guess_delay(ip_failures: int, max_failures_per_ip: int, step_seconds: float) -> float:
    """How long a sign-in from an address waits before its password is checked.

    Nothing for the first third of the per-address allowance (a command room behind
    one NAT mistypes too), then ``step_seconds`` more per failure, at most 3 s: a
    guesser is slowed to a crawl, a colleague typing the right password waits a moment.
    """
    free = max_failures_per_ip // 3
    return min(3.0, max(0, ip_failures - free) * step_seconds)


def authenticate(
    *, username: str, password: str, ip: str, max_failures: int, max_failures_per_ip: int,
    window_seconds: int, delay_step_seconds: float = 0.0,
) -> Principal:
    """Check a login; count a failure; refuse early once the limit is reached.

    The per-account limit locks that account. The per-address limit never refuses a
    correct password of an account that is not itself locked (one address may be a
    whole command room behind a NAT): the address is slowed (``guess_delay``) and, past
    its limit, every wrong name or password is a "too many attempts" — so a blocked
    address learns neither passwords nor which names exist.
    The message never says whether the username exists.
    """
    username = username.strip()[:64]
    window = timedelta(seconds=window_seconds)
    with db.reading() as s:
        ip_failures = _failures(s, LoginAttempt.ip, ip, window)
    pause = guess_delay(ip_failures, max_failures_per_ip, delay_step_seconds)
    if pause:
        time.sleep(pause)  # outside any transaction: no lock is held while waiting
    too_many = TooManyAttempts(
        lazy_ngettext("Too many failed attempts. Try again in %(num)d minute.",
                      "Too many failed attempts. Try again in %(num)d minutes.",
                      max(1, window_seconds // 60))
    )
    with db.unit_of_work() as s:
        if _failures(s, LoginAttempt.username, username.lower(), window) >= max_failures:
            raise too_many
        user = s.scalar(select(User).where(func.lower(User.username) == username.lower()))
        ok = verify_password(user.password_hash if user else None, password)
        ok = ok and user is not None and user.active
        s.add(LoginAttempt(username=username.lower(), ip=ip, success=ok))
        if not ok or user is None:
            events.append(
                s, context=LIVE, type="auth.login_failed", actor=Actor.system("login"),
                audience=ADMIN_ONLY, payload={"username": username, "ip": ip},
            )
        else:
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            events.append(
                s, context=LIVE, type="auth.login", actor=Actor("user", user.id, user.username),
                audience=ADMIN_ONLY, subject=("user", user.id), payload={"ip": ip},
            )
            return _principal_of(user)
    if ip_failures >= max_failures_per_ip:
        raise too_many
    raise NotAuthenticated(_l("Invalid username or password."))


def record_logout(principal: Principal) -> None:
    with db.unit_of_work() as s:
        events.append(
            s, context=LIVE, type="auth.logout", actor=principal.actor, audience=ADMIN_ONLY,
            subject=("user", principal.id), payload={},
        )


def load_user(user_id: int) -> Principal | None:
    with db.reading() as s:
        user = s.get(User, user_id)
        if user is None or not user.active:
            return None
        return _principal_of(user)


def _get_user(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."))
    return user


def set_locale(*, user_id: int, locale: str, actor: Actor) -> None:
    if locale not in SUPPORTED_LOCALES:
        raise ValidationFailed(_l("Unknown language."))
    with db.unit_of_work() as s:
        user = _get_user(s, user_id)
        if user.locale == locale:
            return
        previous, user.locale = user.locale, locale
        events.append(
            s, context=LIVE, type="user.locale_changed", actor=actor,
            audience=[f"user:{user.id}"], subject=("user", user.id),
            payload={"from": previous, "to": locale},
        )


def change_password(*, user_id: int, current: str, new: str, actor: Actor) -> None:
    _check_password(new)
    with db.unit_of_work() as s:
        user = _get_user(s, user_id)
        if not verify_password(user.password_hash, current):
            raise ValidationFailed(_l("The current password is wrong."))
        user.password_hash = hash_password(new)
        events.append(
            s, context=LIVE, type="user.password_changed", actor=actor,
            audience=[f"user:{user.id}"], subject=("user", user.id), payload={},
        )


def update_user(
    *, user_id: int, roles: list[str], active: bool, display_name: str, actor: Actor
) -> None:
    parsed = _roles_or_error(roles)
    with db.unit_of_work() as s:
        user = _get_user(s, user_id)
        if actor.kind == "user" and actor.id == user.id and (
            Role.ADMIN not in parsed or not active
        ):
            raise ValidationFailed(_l("You cannot remove your own administrator access."))
        before = {"roles": sorted(r.value for r in user.roles), "active": user.active,
                  "display_name": user.display_name}
        user.role_rows = [UserRole(role=r.value) for r in sorted(parsed)]
        user.active = active
        user.display_name = display_name.strip() or user.username
        after = {"roles": sorted(r.value for r in parsed), "active": active,
                 "display_name": user.display_name}
        if before == after:
            return
        events.append(
            s, context=LIVE, type="user.updated", actor=actor,
            audience=[*ADMIN_ONLY, f"user:{user.id}"], subject=("user", user.id),
            payload={"username": user.username, "before": before, "after": after},
        )


def list_users() -> list[User]:
    with db.reading() as s:
        return list(s.scalars(select(User).order_by(User.username)))


def create_token(*, name: str, roles: list[str], actor: Actor) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never shown again."""
    name = name.strip()
    if not name or len(name) > 120:
        raise ValidationFailed(_l("A token needs a name of at most 120 characters."))
    parsed = _roles_or_error(roles)
    secret = new_token()
    with db.unit_of_work() as s:
        token = ApiToken(
            name=name, digest=token_digest(secret), hint=secret[-4:],
            roles=sorted(r.value for r in parsed), created_by=actor.name,
        )
        s.add(token)
        s.flush()
        events.append(
            s, context=LIVE, type="token.created", actor=actor, audience=ADMIN_ONLY,
            subject=("token", token.id), payload={"name": name, "roles": token.roles},
        )
        return token, secret


def revoke_token(*, token_id: int, actor: Actor) -> None:
    with db.unit_of_work() as s:
        token = s.get(ApiToken, token_id)
        if token is None:
            raise NotFound(_l("No such token."))
        if token.revoked_at is not None:
            raise Conflict(_l("The token is already revoked."))
        token.revoked_at = utcnow()
        events.append(
            s, context=LIVE, type="token.revoked", actor=actor, audience=ADMIN_ONLY,
            subject=("token", token.id), payload={"name": token.name},
        )


def list_tokens() -> list[ApiToken]:
    with db.reading() as s:
        return list(s.scalars(select(ApiToken).order_by(ApiToken.created_at.desc())))


def resolve_token(secret: str) -> Principal | None:
    """The principal behind a bearer token, or None if unknown or revoked."""
    with db.reading() as s:
        token = s.scalar(select(ApiToken).where(ApiToken.digest == token_digest(secret)))
        if token is None or token.revoked_at is not None:
            return None
        principal = _token_principal(token)
        last_used = token.last_used_at
    now = utcnow()
    if last_used is None or now - last_used > TOKEN_USE_RESOLUTION:
        # Throttled so a tracker posting every second does not write every second.
        with db.unit_of_work() as s:
            s.execute(update(ApiToken).where(ApiToken.id == principal.id).values(last_used_at=now))
    return principal


def load_token(token_id: int) -> Principal | None:
    with db.reading() as s:
        token = s.get(ApiToken, token_id)
        if token is None or token.revoked_at is not None:
            return None
        return _token_principal(token)


def _token_principal(token: ApiToken) -> Principal:
    return Principal(
        kind="token", id=token.id, name=f"token:{token.name}", display_name=token.name,
        roles=frozenset(Role(r) for r in token.roles),
    )


def load_principal(ident: str) -> Principal | None:
    """Resolve a principal id ("user:5", "token:3") to its current state."""
    kind, _, raw = ident.partition(":")
    if not raw.isdigit():
        return None
    if kind == "user":
        return load_user(int(raw))
    if kind == "token":
        return load_token(int(raw))
    return None
