"""Requests for items: requested → approved (all or part) or rejected → shipped → received.

An incident, a facility or a liaison officer asks; logistics approves from a
depot, ships (an issue per line, FEFO, in one transaction) and the requester
confirms what arrived. Every step is an event with the subject
``("stock_request", id)``, so the request's timeline is a query on the log,
and the requester's own room hears each step.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..contexts import LIVE
from ..errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from ..events import Actor, Event
from ..extensions import db
from .common import actor_room, context_row, depot_by_code, emit, item_by_code, now_in
from .ledger import apply_issue
from .models import Depot, DestinationKind, Item, RequestLine, RequestStatus, StockRequest
from .schemas import ApprovalIn, ConfirmIn, IssueIn, RejectIn, RequestIn, ShipIn

SUBJECT = "stock_request"


def request_dict(s: Session, r: StockRequest) -> dict[str, Any]:
    lines = s.execute(select(RequestLine, Item.code, Item.name_zh, Item.name_en, Item.unit)
                      .join(Item, Item.id == RequestLine.item_id)
                      .where(RequestLine.request_id == r.id).order_by(Item.code)).all()
    depot = s.get(Depot, r.depot_id) if r.depot_id else None
    return {
        "id": r.id, "status": r.status, "destination_kind": r.destination_kind,
        "destination_ref": r.destination_ref, "depot": depot.code if depot else None,
        "note": r.note, "requester": r.requester_name,
        "created_at": r.created_at.isoformat(), "updated_at": r.updated_at.isoformat(),
        "lines": [{"item": code, "item_name_zh": zh, "item_name_en": en, "unit": unit,
                   "requested": ln.requested, "approved": ln.approved, "shipped": ln.shipped,
                   "received": ln.received} for ln, code, zh, en, unit in lines],
    }


def _load(s: Session, context: str, request_id: int) -> StockRequest:
    r = s.scalar(select(StockRequest).where(StockRequest.id == request_id,
                                            StockRequest.context == context).with_for_update())
    if r is None:
        raise NotFound(_l("No such request."))
    return r


def _lines(s: Session, r: StockRequest) -> dict[int, RequestLine]:
    return {ln.item_id: ln for ln in s.scalars(
        select(RequestLine).where(RequestLine.request_id == r.id).order_by(RequestLine.item_id))}


def _expect(r: StockRequest, status: RequestStatus) -> None:
    if r.status != status.value:
        raise Conflict(_l("The request is %(status)s; this step needs it %(wanted)s.",
                          status=r.status, wanted=status.value))


def _emit(s: Session, context: str, r: StockRequest, step: str, actor: Actor) -> dict[str, Any]:
    body = request_dict(s, r)
    emit(s, context=context, type=f"stock.request_{step}", actor=actor, payload=body,
         subject=(SUBJECT, r.id), extra_audience=actor_room(r.requester_kind, r.requester_id))
    return body


def create_request(*, data: RequestIn, actor: Actor, context: str = LIVE) -> dict[str, Any]:
    """Ask for items for an incident, facility, isolation point or team."""
    with db.unit_of_work() as s:
        at = now_in(s, context)
        depot = depot_by_code(s, context, data.depot) if data.depot else None
        items = [(item_by_code(s, context, ln.item), ln.quantity) for ln in data.lines]
        r = StockRequest(context=context, status=RequestStatus.REQUESTED.value,
                         destination_kind=data.destination_kind.value,
                         destination_ref=data.destination_ref,
                         depot_id=depot.id if depot else None, note=data.note,
                         requester_kind=actor.kind, requester_id=actor.id,
                         requester_name=actor.name, created_at=at, updated_at=at)
        s.add(r)
        s.flush()
        for item, qty in items:
            s.add(RequestLine(request_id=r.id, item_id=item.id, requested=qty))
        s.flush()
        return _emit(s, context, r, "created", actor)


def approve_request(*, request_id: int, data: ApprovalIn, actor: Actor,
                    context: str = LIVE) -> dict[str, Any]:
    """Approve all of a request, or part of it line by line, from one depot."""
    with db.unit_of_work() as s:
        r = _load(s, context, request_id)
        _expect(r, RequestStatus.REQUESTED)
        depot = depot_by_code(s, context, data.depot)
        lines = _lines(s, r)
        ln: RequestLine | None
        if data.lines is None:
            for ln in lines.values():
                ln.approved = ln.requested
        else:
            for ln in lines.values():
                ln.approved = 0
            for given in data.lines:
                item = item_by_code(s, context, given.item)
                ln = lines.get(item.id)
                if ln is None:
                    raise ValidationFailed(_l("%(item)s is not on this request.", item=item.code))
                if given.quantity > ln.requested:
                    raise ValidationFailed(_l("Cannot approve more %(item)s than requested "
                                              "(%(n)d).", item=item.code, n=ln.requested))
                ln.approved = given.quantity
        if not any(ln.approved for ln in lines.values()):
            raise ValidationFailed(_l("Approve at least one item, or reject the request."))
        r.depot_id = depot.id
        r.status = RequestStatus.APPROVED.value
        r.note = data.note or r.note
        r.updated_at = now_in(s, context)
        s.flush()
        return _emit(s, context, r, "approved", actor)


def reject_request(*, request_id: int, data: RejectIn, actor: Actor,
                   context: str = LIVE) -> dict[str, Any]:
    with db.unit_of_work() as s:
        r = _load(s, context, request_id)
        _expect(r, RequestStatus.REQUESTED)
        r.status = RequestStatus.REJECTED.value
        r.note = data.note or r.note
        r.updated_at = now_in(s, context)
        return _emit(s, context, r, "rejected", actor)


def ship_request(*, request_id: int, data: ShipIn | None = None, actor: Actor,
                 context: str = LIVE) -> dict[str, Any]:
    """Pick (FEFO) and issue every approved line to the request's destination, all or nothing."""
    with db.unit_of_work() as s:
        at = now_in(s, context)
        r = _load(s, context, request_id)
        _expect(r, RequestStatus.APPROVED)
        depot = s.get(Depot, r.depot_id)
        assert depot is not None
        issues = []
        for item_id, ln in _lines(s, r).items():
            if not ln.approved:
                ln.shipped = 0
                continue
            item = s.get(Item, item_id)
            assert item is not None
            issues.append(apply_issue(s, context, IssueIn(
                depot=depot.code, item=item.code, quantity=ln.approved,
                destination_kind=DestinationKind(r.destination_kind),
                destination_ref=r.destination_ref, note=(data.note if data else ""),
            ), actor, at, request_id=r.id))
            ln.shipped = ln.approved
        r.status = RequestStatus.SHIPPED.value
        r.updated_at = at
        s.flush()
        body = _emit(s, context, r, "shipped", actor)
        body["issues"] = issues
        return body


def confirm_request(*, request_id: int, data: ConfirmIn, actor: Actor, may_confirm_any: bool,
                    context: str = LIVE) -> dict[str, Any]:
    """The requester (or logistics) confirms what arrived; a short delivery stays visible."""
    with db.unit_of_work() as s:
        r = _load(s, context, request_id)
        if not may_confirm_any and (r.requester_kind, r.requester_id) != (actor.kind, actor.id):
            raise PermissionDenied(_l("Only the requester confirms receipt."))
        _expect(r, RequestStatus.SHIPPED)
        lines = _lines(s, r)
        ln: RequestLine | None
        for ln in lines.values():
            ln.received = ln.shipped or 0
        for given in data.lines or []:
            item = item_by_code(s, context, given.item)
            ln = lines.get(item.id)
            if ln is None:
                raise ValidationFailed(_l("%(item)s is not on this request.", item=item.code))
            if given.quantity > (ln.shipped or 0):
                raise ValidationFailed(_l("More %(item)s confirmed than shipped (%(n)d).",
                                          item=item.code, n=ln.shipped or 0))
            ln.received = given.quantity
        r.status = RequestStatus.RECEIVED.value
        r.note = data.note or r.note
        r.updated_at = now_in(s, context)
        s.flush()
        return _emit(s, context, r, "received", actor)


def get_request(*, request_id: int, viewer: Actor | None = None,
                context: str = LIVE) -> dict[str, Any]:
    """One request with its timeline; ``viewer`` limits a requester to their own."""
    with db.reading() as s:
        context_row(s, context)
        r = s.scalar(select(StockRequest).where(StockRequest.id == request_id,
                                                StockRequest.context == context))
        if r is None or (viewer is not None
                         and (r.requester_kind, r.requester_id) != (viewer.kind, viewer.id)):
            raise NotFound(_l("No such request."))
        body = request_dict(s, r)
        body["timeline"] = [
            {"seq": e.seq, "type": e.type, "at": e.occurred_at.isoformat(),
             "actor": e.actor_name, "status": e.payload.get("status")}
            for e in s.scalars(select(Event).where(
                Event.context == context, Event.subject_type == SUBJECT,
                Event.subject_id == str(r.id)).order_by(Event.seq))
        ]
        return body


def list_requests(*, viewer: Actor | None = None, status: RequestStatus | None = None,
                  context: str = LIVE, limit: int = 200) -> list[dict[str, Any]]:
    with db.reading() as s:
        stmt = select(StockRequest).where(StockRequest.context == context)
        if viewer is not None:
            stmt = stmt.where(StockRequest.requester_kind == viewer.kind,
                              StockRequest.requester_id == viewer.id)
        if status is not None:
            stmt = stmt.where(StockRequest.status == status.value)
        rows = s.scalars(stmt.order_by(StockRequest.id.desc()).limit(limit)).all()
        return [request_dict(s, r) for r in rows]
