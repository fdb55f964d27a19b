"""Operations on action plans: templates, creation from the top lines, working groups,
co-writing (merge, never overwrite), history and restore, locking and the projector spotlight.

Each operation takes the acting user first, checks its permission by name, changes the
database, records what must be audited, queues its broadcasts and commits. Field edits are
not copied into the audit log: the plan's own history (`PlanChange`) is their record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from workshop.agenda.models import Delegate, Organisation, Workshop
from workshop.agenda.state import announce
from workshop.audit.services import record
from workshop.db import utcnow
from workshop.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from workshop.extensions import db
from workshop.live import plan_room, queue, screen_room, staff_room
from workshop.permissions import Actor, facilitates, is_delegate_of, require
from workshop.plans import merge
from workshop.plans import template as tpl
from workshop.plans.models import Plan, PlanChange, PlanField, PlanMember, PlanTemplate
from workshop.plans.prefill import prefill, vote_summary
from workshop.plans.schemas import (
    AssignIn,
    EditIn,
    JoinIn,
    LockIn,
    RestoreIn,
    SpotlightIn,
)
from workshop.proposals.models import Proposal
from workshop.validation import text_problem
from workshop.voting.models import Ballot

#: Someone who saved in the last minute counts as "writing" on the projector.
WRITING_WINDOW = timedelta(seconds=60)
_RETRIES = 6


class EditConflict(Conflict):
    """Two people changed the same part of a field: nothing is overwritten.

    The answer carries the value now stored (theirs) so the phone can show both versions.
    """

    def __init__(self, message: Any, current: dict[str, Any], **fields: Any) -> None:
        super().__init__(message, **fields)
        self.current = current

    def to_dict(self) -> dict[str, Any]:
        """The usual error shape plus `current`: the stored value and its version."""
        return {**super().to_dict(), "current": self.current}


class _Stale(Exception):
    """Another writer saved the field between our read and our write: read again."""


@dataclass
class EditResult:
    """What an edit did: the field's new version and value, and how it got there."""

    plan_id: int
    field: str
    version: int
    value: Any
    merged: bool = False
    duplicate: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The acknowledgement's body."""
        return {"plan_id": self.plan_id, "field": self.field, "version": self.version,
                "value": self.value, "merged": self.merged, "duplicate": self.duplicate}


# --------------------------------------------------------------------------------------------
# Templates


def latest_template(workshop: Workshop) -> PlanTemplate | None:
    """The workshop's newest template version, or None while it uses the default."""
    return db.session.scalar(
        sa.select(PlanTemplate).where(PlanTemplate.workshop_id == workshop.id)
        .order_by(PlanTemplate.version.desc()).limit(1))


def template_data(workshop: Workshop) -> dict[str, Any]:
    """The template new plans of this workshop are made from (a read: never writes)."""
    current = latest_template(workshop)
    return current.sections if current is not None else tpl.default_template()


def _template_row(actor: Actor, workshop: Workshop) -> PlanTemplate:
    """The newest version as a row, saving the default as version 1 when there is none."""
    current = latest_template(workshop)
    if current is None:
        current = PlanTemplate(workshop_id=workshop.id, version=1,
                               sections=tpl.default_template(),
                               created_by=getattr(actor, "display_name", "system"))
        db.session.add(current)
        db.session.flush()
    return current


def update_template(actor: Actor, workshop: Workshop, sections: Any) -> PlanTemplate:
    """Save an edited template as a new version; plans written already keep theirs.

    :raise PermissionDenied: the actor is not an organiser.
    :raise ValidationFailed: the template's shape is wrong (the field names the place).
    """
    require("plan.template", actor, workshop)
    checked = tpl.check_template(sections)
    current = latest_template(workshop)
    row = PlanTemplate(workshop_id=workshop.id, version=(current.version + 1) if current else 1,
                       sections=checked, created_by=actor.display_name)
    db.session.add(row)
    db.session.flush()
    record(actor, "plan.template", workshop.id, template_id=row.id, version=row.version)
    db.session.commit()
    return row


def options_for(source: str) -> dict[str, Any]:
    """The options of a choice: the network's organisations by id, or a fixed vocabulary."""
    if source == "organisations":
        return {str(i): name for i, name in db.session.execute(
            sa.select(Organisation.id, Organisation.name).order_by(Organisation.name))}
    return tpl.fixed_options(source)


# --------------------------------------------------------------------------------------------
# Creating plans from the lines carried forward


def _bump(workshop: Workshop) -> None:
    """Screens showing plans reload the step's part of the page."""
    workshop.step_revision = (workshop.step_revision or 0) + 1
    announce(db.session, workshop)


def create_plans(actor: Actor, workshop: Workshop, ballot: Ballot,
                 proposal_ids: list[int]) -> list[Plan]:
    """One pre-filled plan per line carried forward, in the order of the selection.

    Called in the transaction of "select the top N" (see workshop.signals). A line that has
    a plan already keeps it (and its text); a plan whose line a later selection left out is
    set aside (inactive), never deleted.
    """
    template = _template_row(actor, workshop)
    fields = tpl.field_map(template.sections)
    existing = {p.proposal_id: p for p in db.session.scalars(
        sa.select(Plan).where(Plan.workshop_id == workshop.id))}
    now = utcnow()
    made: list[Plan] = []
    for position, proposal_id in enumerate(proposal_ids, start=1):
        plan = existing.get(proposal_id)
        if plan is not None:
            plan.active = True
            plan.position = position
            continue
        proposal = db.session.get(Proposal, proposal_id)
        if proposal is None or proposal.workshop_id != workshop.id:
            continue
        plan = Plan(workshop_id=workshop.id, template_id=template.id, proposal_id=proposal_id,
                    ballot_id=ballot.id, position=position, title=proposal.title,
                    vote=vote_summary(ballot, proposal_id), created_at=now, updated_at=now)
        db.session.add(plan)
        db.session.flush()
        start = prefill(proposal)
        for key, field in fields.items():
            value = start.get(key)
            given = value is not None and tpl.is_filled(field, value)
            plan.fields.append(PlanField(
                key=key, value=value if given else tpl.empty_value(field),
                version=1 if given else 0, updated_by="" if not given else "",
                updated_at=now if given else None))
            if given:
                db.session.add(PlanChange(plan_id=plan.id, field_key=key, version=1,
                                          value=value, kind="prefill", author_kind="system",
                                          author_name="", created_at=now))
        made.append(plan)
    chosen = set(proposal_ids)
    for proposal_id, plan in existing.items():
        if proposal_id not in chosen and plan.ballot_id == ballot.id:
            plan.active = False
    db.session.flush()
    record(actor, "plan.create", workshop.id, ballot_id=ballot.id,
           plan_ids=[p.id for p in made], proposal_ids=list(proposal_ids))
    _bump(workshop)
    return made


# --------------------------------------------------------------------------------------------
# Reading


def list_plans(actor: Actor, workshop: Workshop, include_inactive: bool = False) -> list[Plan]:
    """The workshop's plans in the order of the vote.

    :raise PermissionDenied: the actor may not watch this workshop.
    """
    require("plan.view", actor, workshop)
    stmt = sa.select(Plan).where(Plan.workshop_id == workshop.id)
    if not (include_inactive and facilitates(actor, workshop)):
        stmt = stmt.where(Plan.active.is_(True))
    return list(db.session.scalars(stmt.order_by(Plan.position, Plan.id)))


def get_plan(actor: Actor, workshop: Workshop, plan_id: int,
             operation: str = "plan.view") -> Plan:
    """A plan of this workshop that the actor may see (and perform `operation` on).

    :raise PermissionDenied: the actor may not.
    :raise NotFound: no such plan in this workshop (or set aside, for delegates).
    """
    require(operation, actor, workshop)
    plan = db.session.get(Plan, plan_id)
    if plan is None or plan.workshop_id != workshop.id or (
            not plan.active and not facilitates(actor, workshop)):
        raise NotFound(_l("This action plan does not exist."), plan_id=_l("Unknown plan."))
    return plan


def group_of(delegate: Delegate) -> int | None:
    """The plan id of a delegate's working group, if any."""
    return db.session.scalar(sa.select(PlanMember.plan_id)
                             .where(PlanMember.delegate_id == delegate.id))


def members_of(plan: Plan) -> list[Delegate]:
    """The delegates of a plan's working group, by name."""
    return list(db.session.scalars(
        sa.select(Delegate).join(PlanMember, PlanMember.delegate_id == Delegate.id)
        .where(PlanMember.plan_id == plan.id).order_by(Delegate.name)))


def may_write(actor: Actor, workshop: Workshop, plan: Plan) -> bool:
    """Staff of the workshop always; delegates in their own group's plan (or any plan when
    the workshop allows it); nobody once the plan is locked."""
    if plan.locked:
        return False
    if facilitates(actor, workshop):
        return True
    if not is_delegate_of(actor, workshop):
        return False
    return workshop.plans_open_editing or group_of(actor) == plan.id


def field_values(plan: Plan) -> dict[str, dict[str, Any]]:
    """Each field's value, version, last writer and time, by key."""
    return {f.key: {"value": f.value, "version": f.version, "by": f.updated_by,
                    "at": f.updated_at.isoformat() + "Z" if f.updated_at else None}
            for f in plan.fields}


def plan_state(actor: Actor, workshop: Workshop, plan: Plan) -> dict[str, Any]:
    """What a screen needs to (re)draw a plan: values and versions, and whether it may write."""
    return {"plan_id": plan.id, "title": plan.title, "locked": plan.locked,
            "writable": may_write(actor, workshop, plan), "fields": field_values(plan)}


def progress(plan: Plan) -> dict[str, Any]:
    """How far a plan is: fields filled of all, last change, who wrote in the last minute."""
    fields = tpl.field_map(plan.template.sections)
    filled = sum(1 for f in plan.fields if f.key in fields and tpl.is_filled(fields[f.key],
                                                                            f.value))
    since = utcnow() - WRITING_WINDOW
    writers = list(db.session.scalars(
        sa.select(PlanChange.author_name).where(
            PlanChange.plan_id == plan.id, PlanChange.created_at >= since,
            PlanChange.kind.in_(("edit", "merge", "restore")))
        .group_by(PlanChange.author_name).order_by(sa.func.max(PlanChange.id).desc())))
    return {"plan_id": plan.id, "filled": filled, "total": len(fields),
            "updated_at": plan.updated_at.isoformat() + "Z", "writers": writers[:6],
            "locked": plan.locked}


def history(actor: Actor, workshop: Workshop, plan: Plan, field: str | None = None,
            limit: int = 500) -> list[PlanChange]:
    """A plan's saved changes, newest first (optionally of one field).

    :raise PermissionDenied: the actor may not read this workshop's plans.
    """
    require("plan.history", actor, workshop)
    stmt = sa.select(PlanChange).where(PlanChange.plan_id == plan.id)
    if field:
        stmt = stmt.where(PlanChange.field_key == field)
    return list(db.session.scalars(stmt.order_by(PlanChange.id.desc()).limit(limit)))


# --------------------------------------------------------------------------------------------
# Writing


def _invalid(path: str, message: Any) -> ValidationFailed:
    return ValidationFailed(_l("Some fields need correcting."), **{path: message})


def _clean_text(text: str, limit: int, path: str, one_line: bool) -> str:
    # Line breaks are fine (a one-line field joins its lines); control and format characters
    # (NUL, bidi overrides, zero-width spaces) are refused as in every other text.
    if text_problem(text, multiline=True):
        raise _invalid(path, _l("This text contains invisible or control characters: remove "
                                "them."))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if one_line:
        text = " ".join(text.split("\n"))
    if len(text) > limit:
        raise _invalid(path, _l("Enter at most %(n)s characters.", n=limit))
    return text


def _check_choice(value: Any, options: dict[str, Any], path: str) -> str:
    if not isinstance(value, str) or (value and value not in options):
        raise _invalid(path, _l("Choose one of the offered values."))
    return value


def _row_id(row: dict, path: str) -> str:
    rid = row.get("_id")
    if not isinstance(rid, str) or not 1 <= len(rid) <= 16 or not rid.isalnum():
        raise _invalid(f"{path}._id", _l("This value is not valid."))
    return rid


def check_value(field: dict[str, Any], value: Any) -> Any:
    """A field's new value, checked against its kind and limits (errors name `value...`).

    :raise ValidationFailed: wrong type, too long, unknown option, too many rows.
    """
    kind, limit = field["kind"], tpl.max_length(field)
    if kind in ("text", "longtext"):
        if not isinstance(value, str):
            raise _invalid("value", _l("This value has the wrong type."))
        return _clean_text(value, limit, "value", one_line=kind == "text")
    if kind == "choice":
        options = options_for(field["source"])
        if not field.get("multiple"):
            return _check_choice(value, options, "value")
        if not isinstance(value, list) or len(value) > tpl.MAX_ITEMS:
            raise _invalid("value", _l("This value has the wrong type."))
        chosen = {_check_choice(v, options, f"value.{i}") for i, v in enumerate(value)}
        return [key for key in options if key in chosen]  # in the options' order
    if not isinstance(value, list):
        raise _invalid("value", _l("This value has the wrong type."))
    if len(value) > tpl.MAX_ITEMS:
        raise _invalid("value", _l("At most %(n)s rows.", n=tpl.MAX_ITEMS))
    columns = field.get("columns") or [{"key": "text", "kind": "text"}]
    rows, seen = [], set()
    for i, row in enumerate(value):
        path = f"value.{i}"
        if not isinstance(row, dict):
            raise _invalid(path, _l("This value has the wrong type."))
        rid = _row_id(row, path)
        if rid in seen:
            raise _invalid(f"{path}._id", _l("Two rows have the same id."))
        seen.add(rid)
        unknown = set(row) - {"_id"} - {c["key"] for c in columns}
        if unknown:
            raise _invalid(f"{path}.{sorted(unknown)[0]}", _l("This field is not expected."))
        out: dict[str, Any] = {"_id": rid}
        for column in columns:
            cell, cpath = row.get(column["key"]), f"{path}.{column['key']}"
            if column["kind"] == "check":
                if cell is not None and not isinstance(cell, bool):
                    raise _invalid(cpath, _l("This value has the wrong type."))
                out[column["key"]] = bool(cell)
            elif column["kind"] == "choice":
                out[column["key"]] = _check_choice(cell or "", options_for(column["source"]),
                                                   cpath)
            else:
                if cell is not None and not isinstance(cell, str):
                    raise _invalid(cpath, _l("This value has the wrong type."))
                out[column["key"]] = _clean_text(cell or "", limit, cpath, one_line=False)
        rows.append(out)
    return rows


def _author(actor: Actor) -> dict[str, Any]:
    return {"author_kind": getattr(actor, "kind", "system"),
            "author_id": getattr(actor, "id", None),
            "author_name": getattr(actor, "display_name", "")}


def _field_row(plan: Plan, key: str) -> PlanField:
    row = db.session.scalar(sa.select(PlanField).where(PlanField.plan_id == plan.id,
                                                       PlanField.key == key))
    if row is None:
        raise _invalid("field", _l("This plan has no such field."))
    return row


def _value_at(plan: Plan, key: str, version: int, field: dict[str, Any]) -> Any:
    if version == 0:
        return tpl.empty_value(field)
    change = db.session.scalar(sa.select(PlanChange).where(
        PlanChange.plan_id == plan.id, PlanChange.field_key == key,
        PlanChange.version == version))
    if change is None:
        raise _invalid("base_version", _l("This version of the field is unknown."))
    return change.value


def _save(actor: Actor, plan: Plan, row: PlanField, value: Any, kind: str,
          edit_id: str | None = None, restored_from: int | None = None) -> PlanChange:
    """Write a field's new value as the next version (compare-and-swap on the version)."""
    now = utcnow()
    # The plan's row first, then the field's: every writer takes the locks in this order, so
    # a whole-plan restore (several fields) and an edit cannot deadlock on PostgreSQL.
    plan.updated_at = now
    db.session.flush()
    done = db.session.execute(
        sa.update(PlanField)
        .where(PlanField.id == row.id, PlanField.version == row.version)
        .values(value=value, version=row.version + 1, updated_at=now,
                updated_by=getattr(actor, "display_name", ""))
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise _Stale
    change = PlanChange(plan_id=plan.id, field_key=row.key, version=row.version + 1,
                        value=value, kind=kind, edit_id=edit_id,
                        restored_from_id=restored_from, created_at=now, **_author(actor))
    # The UPDATE bypassed the ORM: read the row again when next used (the progress that is
    # broadcast with this change counts the field's new value, not the one before it).
    db.session.expire(row)
    db.session.add(change)
    plan.updated_at = now
    db.session.flush()
    return change


def _announce_change(plan: Plan, change: PlanChange) -> None:
    queue(db.session, "plan.field",
          {"plan_id": plan.id, "field": change.field_key, "version": change.version,
           "value": change.value, "by": change.author_name, "edit_id": change.edit_id,
           "kind": change.kind},
          plan_room(plan.id))
    _announce_progress(plan)


def _announce_progress(plan: Plan) -> None:
    payload = progress(plan)
    for room in (staff_room(plan.workshop_id), screen_room(plan.workshop_id), plan_room(plan.id)):
        queue(db.session, "plan.progress", payload, room)


def _writable_plan(actor: Actor, workshop: Workshop, plan_id: int, operation: str) -> Plan:
    plan = get_plan(actor, workshop, plan_id, operation)
    if plan.locked:
        raise Conflict(_l("This action plan is locked: it can be read and exported, "
                          "not changed."))
    if not may_write(actor, workshop, plan):
        raise PermissionDenied(_l("Only this plan's working group may write in it."))
    return plan


def _edit_once(actor: Actor, workshop: Workshop, data: EditIn) -> EditResult:
    plan = _writable_plan(actor, workshop, data.plan_id, "plan.edit")
    fields = tpl.field_map(plan.template.sections)
    field = fields.get(data.field)
    if field is None:
        raise _invalid("field", _l("This plan has no such field."))
    value = check_value(field, data.value)
    if data.edit_id:
        done = db.session.scalar(sa.select(PlanChange).where(
            PlanChange.plan_id == plan.id, PlanChange.edit_id == data.edit_id))
        if done is not None:  # a retry of an edit stored already: store nothing
            row = _field_row(plan, data.field)
            return EditResult(plan.id, data.field, row.version, row.value, duplicate=True)
    row = _field_row(plan, data.field)
    if data.base_version > row.version:
        raise _invalid("base_version", _l("This version of the field is unknown."))
    merged = False
    if data.base_version < row.version:
        base = _value_at(plan, data.field, data.base_version, field)
        result = merge.merge_value(field["kind"], bool(field.get("multiple")), base, value,
                                   row.value)
        if result is merge.CONFLICT:
            raise EditConflict(
                _l("Someone changed the same part of this field meanwhile. Both versions "
                   "are shown: keep yours, take theirs, or combine them."),
                current={"field": data.field, "version": row.version, "value": row.value,
                         "by": row.updated_by},
                value=_l("Changed by someone else meanwhile."))
        merged, value = True, result
    if value == row.value:  # nothing changes (e.g. the same text again)
        return EditResult(plan.id, data.field, row.version, row.value, merged=merged)
    change = _save(actor, plan, row, value, "merge" if merged else "edit", data.edit_id)
    _announce_change(plan, change)
    db.session.commit()
    return EditResult(plan.id, data.field, change.version, value, merged=merged)


def edit_field(actor: Actor, workshop: Workshop, data: EditIn) -> EditResult:
    """Save a new value of one field, merged with what others saved since `base_version`.

    Where the merge is clean the result holds both people's changes; where it is not,
    nothing is stored and the answer shows both versions. The same `edit_id` sent again
    (a phone resending after the network came back) is stored once.

    :raise PermissionDenied: not staff, nor a delegate allowed to write in this plan.
    :raise NotFound: no such plan in this workshop.
    :raise Conflict: the plan is locked.
    :raise EditConflict: the change overlaps another made since `base_version`.
    :raise ValidationFailed: unknown field or version, wrong type, over the length limit.
    """
    for _attempt in range(_RETRIES):
        try:
            return _edit_once(actor, workshop, data)
        except (_Stale, IntegrityError):
            db.session.rollback()
    raise Conflict(_l("Too many people are saving this field at once. Try again."))


def restore(actor: Actor, workshop: Workshop, data: RestoreIn) -> list[PlanChange]:
    """Bring back an earlier version of one field, or of the whole plan as it was then.

    The restore is itself a new change in the history (nothing is erased).

    :raise PermissionDenied / NotFound / Conflict: as for an edit.
    :raise ValidationFailed: the change is not one of this plan's (field `change_id`).
    """
    for _attempt in range(_RETRIES):
        try:
            return _restore_once(actor, workshop, data)
        except (_Stale, IntegrityError):
            db.session.rollback()
    raise Conflict(_l("Too many people are saving this field at once. Try again."))


def _restore_once(actor: Actor, workshop: Workshop, data: RestoreIn) -> list[PlanChange]:
    plan = _writable_plan(actor, workshop, data.plan_id, "plan.restore")
    target = db.session.get(PlanChange, data.change_id)
    if target is None or target.plan_id != plan.id:
        raise _invalid("change_id", _l("This change is not in this plan's history."))
    fields = tpl.field_map(plan.template.sections)
    if data.scope == "field":
        wanted = {target.field_key: (target.value, target.id)}
    else:  # every field as it stood right after this change
        wanted = {}
        for key, field in fields.items():
            last = db.session.scalar(
                sa.select(PlanChange).where(PlanChange.plan_id == plan.id,
                                            PlanChange.field_key == key,
                                            PlanChange.id <= target.id)
                .order_by(PlanChange.id.desc()).limit(1))
            wanted[key] = ((last.value, last.id) if last is not None
                           else (tpl.empty_value(field), None))
    changes = []
    for key, (value, source_id) in wanted.items():
        row = _field_row(plan, key)
        if row.value == value:
            continue
        change = _save(actor, plan, row, value, "restore", restored_from=source_id)
        _announce_change(plan, change)
        changes.append(change)
    record(actor, "plan.restore", workshop.id, plan_id=plan.id, change_id=target.id,
           scope=data.scope, fields=[c.field_key for c in changes])
    db.session.commit()
    return changes


# --------------------------------------------------------------------------------------------
# Working groups, locking, spotlight


def _delegate_in(workshop: Workshop, delegate_id: int) -> Delegate:
    delegate = db.session.get(Delegate, delegate_id)
    if delegate is None or delegate.workshop_id != workshop.id:
        raise _invalid("delegate_id", _l("No such delegate in this workshop."))
    return delegate


def _set_group(actor: Actor, workshop: Workshop, delegate: Delegate, plan: Plan | None) -> None:
    db.session.execute(sa.delete(PlanMember).where(PlanMember.delegate_id == delegate.id))
    if plan is not None:
        db.session.add(PlanMember(plan_id=plan.id, delegate_id=delegate.id,
                                  assigned_by=actor.display_name))
    db.session.flush()
    _bump(workshop)


def assign_member(actor: Actor, workshop: Workshop, data: AssignIn) -> int | None:
    """Put a delegate in a plan's working group (moving them from another), or in none.

    :raise PermissionDenied: the actor does not facilitate this workshop.
    :raise ValidationFailed / NotFound: unknown delegate or plan.
    """
    require("plan.assign", actor, workshop)
    delegate = _delegate_in(workshop, data.delegate_id)
    plan = get_plan(actor, workshop, data.plan_id, "plan.assign") if data.plan_id else None
    _set_group(actor, workshop, delegate, plan)
    record(actor, "plan.assign", workshop.id, delegate_id=delegate.id, plan_id=data.plan_id)
    db.session.commit()
    return data.plan_id


def join_group(actor: Actor, workshop: Workshop, data: JoinIn) -> int | None:
    """A delegate chooses their own working group, where the workshop allows it.

    :raise PermissionDenied: not a delegate, or the workshop assigns groups itself.
    """
    require("plan.join", actor, workshop)
    if not workshop.plans_self_assign:
        raise PermissionDenied(_l("The facilitators assign the working groups."))
    plan = get_plan(actor, workshop, data.plan_id, "plan.join") if data.plan_id else None
    if plan is not None and plan.locked:
        raise Conflict(_l("This action plan is locked: it can be read and exported, "
                          "not changed."))
    _set_group(actor, workshop, actor, plan)
    record(actor, "plan.join", workshop.id, plan_id=data.plan_id)
    db.session.commit()
    return data.plan_id


def lock_plans(actor: Actor, workshop: Workshop, data: LockIn) -> list[int]:
    """Lock (read-only, still exportable) or unlock one plan or every plan of the workshop.

    :raise PermissionDenied: the actor does not facilitate this workshop.
    """
    require("plan.lock", actor, workshop)
    plans = ([get_plan(actor, workshop, data.plan_id, "plan.lock")] if data.plan_id
             else list_plans(actor, workshop))
    for plan in plans:
        plan.locked = data.locked
        queue(db.session, "plan.locked", {"plan_id": plan.id, "locked": plan.locked},
              plan_room(plan.id))
        _announce_progress(plan)
    record(actor, "plan.lock", workshop.id, plan_ids=[p.id for p in plans], locked=data.locked)
    _bump(workshop)
    db.session.commit()
    return [p.id for p in plans]


def spotlight(actor: Actor, workshop: Workshop, data: SpotlightIn) -> int | None:
    """Show one plan in full on the projector, or go back to every plan's progress.

    :raise PermissionDenied: the actor does not facilitate this workshop.
    """
    require("plan.spotlight", actor, workshop)
    if data.plan_id:
        get_plan(actor, workshop, data.plan_id, "plan.spotlight")
        workshop.spotlight = {"kind": "plan", "id": data.plan_id}
    else:
        workshop.spotlight = None
    record(actor, "plan.spotlight", workshop.id, plan_id=data.plan_id)
    _bump(workshop)
    db.session.commit()
    return data.plan_id


def spotlit_plan(workshop: Workshop) -> int | None:
    """The plan the projector shows in full, if any."""
    spot = workshop.spotlight or {}
    return spot.get("id") if spot.get("kind") == "plan" else None



def display_value(field: dict[str, Any], value: Any, options: dict[str, str] | None) -> str:
    """A choice field's value as readers see it: the option names, not their keys."""
    if field["kind"] != "choice" or options is None:
        return value if isinstance(value, str) else ""
    keys = value if isinstance(value, list) else [value]
    return ", ".join(options.get(str(k), str(k)) for k in keys if k)


def editor_context(actor: Actor, workshop: Workshop, plan: Plan, lang: str) -> dict[str, Any]:
    """What the plan templates draw: sections and fields in the reader's language, each with
    its value, version and options, and whether the reader may write."""
    values = field_values(plan)
    sections = []
    for section in plan.template.sections["sections"]:
        fields = []
        for field in section["fields"]:
            current = values.get(field["key"], {"value": tpl.empty_value(field), "version": 0,
                                                "by": "", "at": None})
            columns = [{**c, "label": tpl.label(c["label"], lang),
                        "options": ({k: str(v) for k, v in options_for(c["source"]).items()}
                                    if c["kind"] == "choice" else None)}
                       for c in field.get("columns") or []]
            options = ({k: str(v) for k, v in options_for(field["source"]).items()}
                       if field["kind"] == "choice" else None)
            fields.append({
                "key": field["key"], "kind": field["kind"],
                "display": display_value(field, current["value"], options),
                "multiple": bool(field.get("multiple")),
                "label": tpl.label(field["label"], lang), "help": tpl.label(field.get("help"),
                                                                            lang),
                "max_length": tpl.max_length(field),
                "options": options, "columns": columns, **current,
            })
        sections.append({"key": section["key"], "title": tpl.label(section["title"], lang),
                         "fields": fields})
    return {"plan": plan, "sections": sections, "writable": may_write(actor, workshop, plan),
            "members": members_of(plan)}
