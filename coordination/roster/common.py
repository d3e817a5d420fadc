"""What every roster service shares: input parsing, the context and agency lookups,
officers as dicts and who the caller is.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.models import User
from ..contexts import context_row as context_row  # one helper; modules here import it from common
from ..errors import NotFound, ValidationFailed
from ..events import Actor
from .models import (
    Agency,
    Officer,
)

OPS_AUDIENCE = ["role:operator", "role:trainer"]


def parse(model: type[Any], data: Any) -> Any:
    """Validate input into ``model``; every problem in one 400 message."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        raise ValidationFailed("; ".join(problems), details=problems) from None


def agency_by_code(s: Session, context: str, code: str) -> Agency:
    a = s.scalar(select(Agency).where(Agency.context == context, Agency.code == code))
    if a is None:
        raise NotFound(_l("No such agency: %(code)s.", code=code))
    return a


def new_ical_token() -> str:
    return secrets.token_urlsafe(24)


def officer_dict(o: Officer) -> dict[str, Any]:
    return {
        "id": o.id, "name": o.name, "name_en": o.name_en, "phone": o.phone, "email": o.email,
        "agency_role": o.agency_role, "languages": list(o.languages or []),
        "may_be_primary": o.may_be_primary, "user_id": o.user_id, "active": o.active,
    }


def officers_by_id(s: Session, ids: set[int]) -> dict[int, Officer]:
    if not ids:
        return {}
    return {o.id: o for o in s.scalars(select(Officer).where(Officer.id.in_(ids)))}


def officer_of(s: Session, context: str, actor: Actor) -> Officer | None:
    if actor.kind == "sms" and actor.id is not None:
        # An SMS reply (roster/sms_inbound): the sender's phone already named the officer.
        o = s.get(Officer, actor.id)
        return o if o is not None and o.context == context else None
    if actor.kind != "user" or actor.id is None:
        return None
    return s.scalar(select(Officer).where(Officer.context == context,
                                          Officer.user_id == actor.id))


def link_user(s: Session, username: str | None) -> int | None:
    if not username:
        return None
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise ValidationFailed(_l("No account named %(name)s.", name=username))
    return user.id


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()
