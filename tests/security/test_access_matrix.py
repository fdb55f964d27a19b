"""Who may use what: one table (ACCESS) gives, for every HTTP endpoint and every socket event,
the roles allowed to use it; the matrix (generated: route or event x role) asks each as every
role and checks the answer against the table.

The routes are read from the app's URL map and the events from the Socket.IO server's handler
registry, so a new route or event without a row here fails (test_the_table_names_every_route_
and_event, and its own line of the matrix).

Allowed: past every gate (not 401/403, no redirect to the login, no refusal flashed) and no
5xx; the body is valid, so most allowed requests really act (the database is put back after).
Refused: 401, 403 or 404, a redirect to the login (or, for /d pages, to the join page), or a
form that flashes the refusal; for events `{"ok": false, "error": "forbidden"}` (or
"unauthorized"); a role that may not watch the workshop cannot even open its socket. Either
way a refused request stores nothing at all (every table compared before and after).

Outsiders (a delegate and a facilitator of another workshop) are also pointed at this
workshop's objects through their own workshop's URLs and sockets: refused, nothing stored.

/api/v1 takes bearer tokens only; tests/api/test_refusals.py walks it token by token. Here its
routes are listed too (a browser's login cookie must get 401 from each).
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import url_for

from config import TestConfig
from tests.security.world import ROLES, Room, World, changed_tables, room, workshop_rows
from workshop import create_app
from workshop.extensions import socketio

ANYONE = frozenset(ROLES)
DELEGATES = frozenset({"other_delegate", "delegate", "unadmitted"})  # of their own workshop
STAFF = frozenset({"other_facilitator", "facilitator", "organiser"})
DRIVERS = frozenset({"facilitator", "organiser"})  # facilitates the workshop
ORGANISER = frozenset({"organiser"})
WATCHERS = frozenset({"projector", "delegate", "unadmitted", "facilitator", "organiser"})
MEMBERS = frozenset({"delegate", "unadmitted", "facilitator", "organiser"})  # no projector
PARTICIPANTS = frozenset({"delegate"})  # admitted (the workshop keeps a voting register)
DISCUSSANTS = frozenset({"delegate", "facilitator", "organiser"})
WRITERS = frozenset({"delegate", "facilitator", "organiser"})  # the delegate is in the group
AUTHOR_OR_STAFF = frozenset({"delegate", "facilitator", "organiser"})  # Sita's proposal
API = "api"  # bearer tokens only: every cookie role gets 401 (tokens: tests/api/test_refusals)

Payload = Callable[[World, int], Any]


@dataclass(frozen=True)
class Row:
    """Who may use one endpoint or event, and what to send it.

    `form` / `json` (HTTP) and `payload` (events) take the world and the workshop id to
    name; `ids` overrides the URL values of `url_values`.
    """

    allowed: frozenset[str] | str
    form: Payload | None = None
    json: Payload | None = None
    payload: Payload | None = None
    ids: dict[str, Callable[[World], Any]] = field(default_factory=dict)


def _ballot(key: str = "ballot_id") -> dict[str, Callable[[World], Any]]:
    return {"ballot_id": lambda w: getattr(w, key)}


CLOSED = _ballot("closed_ballot_id")

#: THE table: endpoint name (HTTP) or event name (Socket.IO) -> who may use it.
ACCESS: dict[str, Row] = {
    # --- Public pages -------------------------------------------------------------------------
    "static": Row(ANYONE),
    "phone.landing": Row(ANYONE, form=lambda w, _: {"code": w.join_code}),
    "phone.join": Row(ANYONE, form=lambda w, _: {"name": "Newcomer",
                                                 "organisation_id": w.organisation_id}),
    "phone.invitation": Row(ANYONE),
    "auth.login": Row(ANYONE, form=lambda w, _: {"email": "nobody@example.org",
                                                 "password": "not the password"}),
    "auth.logout": Row(ANYONE),
    # --- A delegate's own pages (whichever workshop they joined) ------------------------------
    "phone.follow": Row(DELEGATES),
    "phone.step_fragment": Row(DELEGATES),
    "voting.cast": Row(PARTICIPANTS, json=lambda w, _: {"choices": [w.option_ids[0]]}),
    # --- Staff ----------------------------------------------------------------------------------
    "manage.workshops": Row(STAFF),
    "api_account.tokens_page": Row(STAFF, form=lambda w, _: {"name": "laptop"}),
    "api_account.revoke": Row(STAFF),  # someone else's token: 404
    "manage.new_workshop": Row(ORGANISER, form=lambda w, _: {"title": "Asia",
                                                             "kind": "face_to_face"}),
    "manage.organisations": Row(ORGANISER, form=lambda w, _: {
        "name": "Bolivia Coop", "country": "Bolivia", "region": "latin_america",
        "type": "cooperative"}),
    # --- Organisers prepare the workshop --------------------------------------------------------
    "manage.manage": Row(ORGANISER),
    "manage.edit": Row(ORGANISER, form=lambda w, _: {
        "title": "Renamed", "kind": "face_to_face", "voting_register": "true",
        "plans_self_assign": "true"}),
    "manage.add_step": Row(ORGANISER, form=lambda w, _: {"kind": "discuss", "title": "More"}),
    "manage.update_step": Row(ORGANISER, form=lambda w, _: {"kind": "discuss",
                                                            "title": "Discuss again"}),
    "manage.delete_step": Row(ORGANISER),
    "manage.move_step": Row(ORGANISER, form=lambda w, _: {"direction": "up"}),
    "manage.assign": Row(ORGANISER, form=lambda w, _: {"user_id": w.other_facilitator_id,
                                                       "assigned": "true"}),
    "manage.invite": Row(ORGANISER, form=lambda w, _: {"name": "Guest",
                                                       "organisation_id": w.organisation_id}),
    "manage.renew": Row(ORGANISER),
    "console.audit": Row(ORGANISER),
    "manage.rotate_projector_key": Row(ORGANISER),
    "registration.index": Row(ORGANISER),  # POST without a file: 422 once past the gate
    "registration.reissue": Row(ORGANISER, form=lambda w, _: {"delegate_ids": w.invited_id}),
    "registration.revoke": Row(ORGANISER),
    "registration.links_csv": Row(ORGANISER),
    "registration.badges_pdf": Row(ORGANISER),
    "voting.proxies": Row(ORGANISER, form=lambda w, _: {"holder_id": w.delegate_id,
                                                        "absent_id": w.absent_id}),
    "proposals.import_file": Row(ORGANISER),
    "plans.template": Row(ORGANISER, form=lambda w, _: {"version": w.template_version,
                                                        "reset": "1"}),
    # --- Facilitators drive it ------------------------------------------------------------------
    "console.console": Row(DRIVERS),
    "console.goto": Row(DRIVERS),
    "console.timer": Row(DRIVERS, form=lambda w, _: {"seconds": 60}),
    "console.message": Row(DRIVERS, form=lambda w, _: {"text": "Coffee break"}),
    "console.admit": Row(DRIVERS, form=lambda w, _: {"delegate_id": w.unadmitted_id,
                                                     "admitted": "true"}),
    "voting.ballots": Row(DRIVERS),
    "voting.panel": Row(DRIVERS),
    "voting.open_ballot": Row(DRIVERS, form=lambda w, _: {"title": "Second round",
                                                          "method": "approval"}),
    "voting.close": Row(DRIVERS),
    "voting.extend": Row(DRIVERS, form=lambda w, _: {"minutes": 5}),
    "voting.visibility": Row(DRIVERS, form=lambda w, _: {"visible": "true"}),
    "voting.select_top": Row(DRIVERS, form=lambda w, _: {"n": 1}, ids=CLOSED),
    "voting.paper": Row(DRIVERS, form=lambda w, _: {"delegate_id": w.absent_id,
                                                    "choice": w.option_ids[0]}),
    "proposals.moderate": Row(DRIVERS),
    "proposals.edit": Row(DRIVERS, form=lambda w, _: {"title": "Edited", "theme": "decent_work",
                                                      "level": "national"}),
    "proposals.hide": Row(DRIVERS, form=lambda w, _: {"hidden": "true", "reason": "Spam"}),
    "proposals.hide_comment": Row(DRIVERS, form=lambda w, _: {"hidden": "true"}),
    "proposals.lock": Row(DRIVERS, form=lambda w, _: {"locked": "true"}),
    "proposals.merge": Row(DRIVERS, form=lambda w, _: {"proposal_ids": w.proposal_ids[2:4],
                                                       "title": "Merged"}),
    "proposals.unmerge": Row(DRIVERS),  # not a merge: 409 once past the gate
    "plans.assign": Row(DRIVERS, form=lambda w, _: {"delegate_id": w.unadmitted_id,
                                                    "plan_id": w.plan_id}),
    "plans.lock": Row(DRIVERS, form=lambda w, _: {"plan_id": w.plan_id, "locked": "true"}),
    "plans.spotlight": Row(DRIVERS, form=lambda w, _: {"plan_id": w.plan_id}),
    "exports.dashboard": Row(DRIVERS),
    "exports.table_csv": Row(DRIVERS),
    "exports.all_json": Row(DRIVERS),
    "exports.all_xlsx": Row(DRIVERS),
    "exports.all_zip": Row(DRIVERS),
    "reports.workshop_pdf": Row(DRIVERS),
    "reports.workshop_docx": Row(DRIVERS),
    "reports.ballot_pdf": Row(DRIVERS, ids=CLOSED),
    "reports.ballot_docx": Row(DRIVERS, ids=CLOSED),
    "projector.projector": Row(DRIVERS | {"projector"}),
    "projector.step_fragment": Row(DRIVERS | {"projector"}),
    "projector.spotlight_panel": Row(DRIVERS),
    "projector.spotlight": Row(DRIVERS, form=lambda w, _: {"proposal_id": w.proposal_id}),
    # --- Everyone of the workshop ---------------------------------------------------------------
    "voting.results_page": Row(WATCHERS, ids=CLOSED),
    "voting.receipts": Row(WATCHERS, ids=CLOSED),
    "proposals.discussion": Row(MEMBERS),
    "proposals.create": Row(PARTICIPANTS, form=lambda w, _: {
        "title": "Youth employment", "theme": "decent_work", "level": "national"}),
    "proposals.support": Row(PARTICIPANTS),
    "proposals.comment": Row(DISCUSSANTS, form=lambda w, _: {"body": "Yes, and climate"}),
    # Sita (the delegate) put the proposal forward: she and staff translate it, and decide on
    # the translation Ram suggested; others suggest (on someone else's proposal).
    "proposals.translate": Row(AUTHOR_OR_STAFF, form=lambda w, _: {
        "language": "es", "title": "Protección social"}),
    "proposals.suggest": Row(PARTICIPANTS, form=lambda w, _: {"language": "fr",
                                                              "title": "Travail décent"},
                             ids={"proposal_id": lambda w: w.proposal_ids[0]}),
    "proposals.translations": Row(MEMBERS),
    "proposals.accept_suggestion": Row(AUTHOR_OR_STAFF),
    "proposals.reject_suggestion": Row(AUTHOR_OR_STAFF),
    "plans.index": Row(MEMBERS),
    "plans.show": Row(MEMBERS),
    "plans.history": Row(MEMBERS),
    "plans.save_field": Row(WRITERS, form=lambda w, _: {"base_version": w.objective_version,
                                                        "value": "Decent work, now"}),
    "plans.restore": Row(WRITERS, form=lambda w, _: {"change_id": w.change_id,
                                                     "scope": "field"}),
    "plans.join": Row(frozenset({"delegate", "unadmitted"}),
                      form=lambda w, _: {"plan_id": w.other_plan_id}),
    "plan_exports.plan_docx": Row(MEMBERS),
    "plan_exports.plan_pdf": Row(MEMBERS),
    "plan_exports.workshop_docx": Row(MEMBERS),
    "plan_exports.workshop_pdf": Row(MEMBERS),
    # --- The JSON API: bearer tokens only -------------------------------------------------------
    "api.docs_page": Row(ANYONE),
    "api.openapi_json": Row(ANYONE),
    **{f"api.{name}": Row(API) for name in (
        "organisation_list", "organisation_create", "workshop_list", "workshop_create",
        "workshop_get", "workshop_update", "ballot_list", "ballot_open", "ballot_get",
        "ballot_close", "ballot_paper", "ballot_results", "delegate_list", "delegate_invite",
        "delegate_import", "plan_list", "plan_get", "plan_edit", "proposal_list",
        "proposal_get", "proposal_import", "agenda_list", "agenda_add_step",
        "agenda_update_step", "agenda_goto", "delegate_revoke", "registration_import",
        "export_json", "export_xlsx", "export_zip", "export_csv_audit",
        "export_csv_ballot_papers", "export_csv_ballots", "export_csv_breakdowns",
        "export_csv_comments", "export_csv_delegates", "export_csv_organisations",
        "export_csv_proposals", "export_csv_results", "export_csv_supports",
        "export_csv_turnout")},
    # --- Socket.IO events (docs/events.md) ------------------------------------------------------
    "agenda.goto": Row(DRIVERS, payload=lambda w, wid: {"workshop_id": wid,
                                                        "step_id": w.steps["discuss"]}),
    "timer.start": Row(DRIVERS, payload=lambda w, wid: {"workshop_id": wid, "seconds": 60}),
    "timer.pause": Row(DRIVERS, payload=lambda w, wid: {"workshop_id": wid}),
    "timer.extend": Row(DRIVERS, payload=lambda w, wid: {"workshop_id": wid, "seconds": 30}),
    "timer.reset": Row(DRIVERS, payload=lambda w, wid: {"workshop_id": wid}),
    "message.broadcast": Row(DRIVERS, payload=lambda w, wid: {"workshop_id": wid,
                                                              "text": "Coffee"}),
    "state.sync": Row(WATCHERS, payload=lambda w, wid: {"workshop_id": wid}),
    "delegate.admit": Row(DRIVERS, payload=lambda w, wid: {
        "workshop_id": wid, "delegate_id": w.unadmitted_id, "admitted": True}),
    "proposal.spotlight": Row(DRIVERS, payload=lambda w, wid: {
        "workshop_id": wid, "proposal_id": w.proposal_id}),
    "proposal.create": Row(PARTICIPANTS, payload=lambda w, wid: {
        "workshop_id": wid, "title": "Care work", "theme": "decent_work",
        "level": "national"}),
    "proposal.support": Row(PARTICIPANTS, payload=lambda w, wid: {
        "workshop_id": wid, "proposal_id": w.proposal_ids[0]}),
    "proposal.comment": Row(DISCUSSANTS, payload=lambda w, wid: {
        "workshop_id": wid, "proposal_id": w.proposal_id, "body": "Agreed"}),
    "discussion.open": Row(WATCHERS, payload=lambda w, wid: {
        "workshop_id": wid, "proposal_id": w.proposal_id}),
    "ballot.open": Row(DRIVERS, payload=lambda w, wid: {"workshop_id": wid, "title": "Round 2",
                                                        "method": "approval"}),
    "ballot.close": Row(DRIVERS, payload=lambda w, wid: {"workshop_id": wid,
                                                         "ballot_id": w.ballot_id}),
    "ballot.extend": Row(DRIVERS, payload=lambda w, wid: {
        "workshop_id": wid, "ballot_id": w.ballot_id, "minutes": 5}),
    "ballot.show_results": Row(DRIVERS, payload=lambda w, wid: {
        "workshop_id": wid, "ballot_id": w.ballot_id, "visible": True}),
    "ballot.select_top": Row(DRIVERS, payload=lambda w, wid: {
        "workshop_id": wid, "ballot_id": w.closed_ballot_id, "n": 1}),
    "ballot.paper": Row(DRIVERS, payload=lambda w, wid: {
        "workshop_id": wid, "ballot_id": w.ballot_id, "delegate_id": w.absent_id,
        "choices": [w.option_ids[0]]}),
    "proxy.assign": Row(ORGANISER, payload=lambda w, wid: {
        "workshop_id": wid, "holder_id": w.delegate_id, "absent_id": w.absent_id}),
    "ballot.cast": Row(PARTICIPANTS, payload=lambda w, wid: {
        "workshop_id": wid, "ballot_id": w.ballot_id, "choices": [w.option_ids[0]]}),
    "ballot.sync": Row(WATCHERS, payload=lambda w, wid: {"workshop_id": wid,
                                                        "ballot_id": w.ballot_id}),
    "proposal.translate": Row(AUTHOR_OR_STAFF, payload=lambda w, wid: {
        "workshop_id": wid, "proposal_id": w.proposal_id, "language": "es",
        "title": "Protección social"}),
    "translation.suggest": Row(PARTICIPANTS, payload=lambda w, wid: {
        "workshop_id": wid, "proposal_id": w.proposal_ids[0], "language": "fr",
        "title": "Travail décent"}),
    "translation.accept": Row(AUTHOR_OR_STAFF, payload=lambda w, wid: {
        "workshop_id": wid, "suggestion_id": w.suggestion_id}),
    "translation.reject": Row(AUTHOR_OR_STAFF, payload=lambda w, wid: {
        "workshop_id": wid, "suggestion_id": w.suggestion_id}),
    "plan.open": Row(WATCHERS, payload=lambda w, wid: {"workshop_id": wid,
                                                       "plan_id": w.plan_id}),
    "plan.edit": Row(WRITERS, payload=lambda w, wid: {
        "workshop_id": wid, "plan_id": w.plan_id, "field": "objective",
        "base_version": w.objective_version, "value": "Decent work, now"}),
    "plan.restore": Row(WRITERS, payload=lambda w, wid: {
        "workshop_id": wid, "plan_id": w.plan_id, "change_id": w.change_id}),
    "plan.assign": Row(DRIVERS, payload=lambda w, wid: {
        "workshop_id": wid, "delegate_id": w.unadmitted_id, "plan_id": w.plan_id}),
    "plan.join": Row(frozenset({"delegate", "unadmitted"}), payload=lambda w, wid: {
        "workshop_id": wid, "plan_id": w.other_plan_id}),
    "plan.lock": Row(DRIVERS, payload=lambda w, wid: {"workshop_id": wid,
                                                      "plan_id": w.plan_id, "locked": True}),
    "plan.spotlight": Row(DRIVERS, payload=lambda w, wid: {"workshop_id": wid,
                                                           "plan_id": w.plan_id}),
}


def url_values(w: World) -> dict[str, Any]:
    """A real value for every URL parameter a route of the app may have."""
    return {"workshop_id": w.workshop_id, "step_id": w.steps["discuss"],
            "ballot_id": w.ballot_id, "plan_id": w.plan_id, "proposal_id": w.proposal_id,
            "comment_id": w.comment_id, "delegate_id": w.invited_id, "token_id": w.token_id,
            "field": "objective", "action": "start", "code": w.join_code,
            "token": w.invitation, "filename": "css/app.css",
            "suggestion_id": w.suggestion_id, "name": "proposals"}


# --- What the app has -------------------------------------------------------------------------

CONNECTION_EVENTS = {"connect", "disconnect"}


def _registry() -> tuple[list[tuple[str, str, str]], list[str]]:
    """(rule, method, endpoint) of every route, and the name of every socket event."""
    app = create_app(TestConfig)
    routes = sorted((rule.rule, method, rule.endpoint) for rule in app.url_map.iter_rules()
                    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    events = set()
    for handlers in socketio.server.handlers.values():
        events |= set(handlers)
    for namespace in getattr(socketio.server, "namespace_handlers", {}).values():
        events |= {name[3:] for name in dir(namespace) if name.startswith("on_")}
    return routes, sorted(events - CONNECTION_EVENTS)


ROUTES, EVENTS = _registry()
ENDPOINTS = {endpoint for _rule, _method, endpoint in ROUTES}


def test_the_table_names_every_route_and_event():
    """A route or event added without its row in ACCESS fails here (and in the matrix)."""
    assert not ENDPOINTS & set(EVENTS), "an endpoint and an event share a name"
    missing = sorted((ENDPOINTS | set(EVENTS)) - set(ACCESS))
    stale = sorted(set(ACCESS) - ENDPOINTS - set(EVENTS))
    assert not missing, f"no row in ACCESS (tests/security/test_access_matrix.py) for: {missing}"
    assert not stale, f"rows in ACCESS for routes or events that are gone: {stale}"


# --- The matrix -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world_room() -> Iterator[Room]:
    """One world for the whole module; each test puts the database back after itself."""
    with room() as built:
        yield built




def _row(name: str) -> Row:
    row = ACCESS.get(name)
    if row is None:
        pytest.fail(f"{name} has no row in ACCESS: say who may use it "
                    "(tests/security/test_access_matrix.py)")
    return row


def _url(room_: Room, endpoint: str, values: dict[str, Any]) -> str:
    rule = next(r for r in room_.app.url_map.iter_rules() if r.endpoint == endpoint)
    with room_.app.test_request_context():
        return url_for(endpoint, **{k: values[k] for k in rule.arguments})


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as sess:
        return list(sess.get("_flashes", []))


def _to_login(response, url: str) -> bool:
    """A redirect to the staff login, or (pages under /d) to the page to join with a code."""
    if response.status_code not in (301, 302, 303, 307, 308):
        return False
    target = urlsplit(response.headers.get("Location", "")).path
    return target == "/login" or (url.startswith("/d") and target == "/")


def _request(room_: Room, role: str, method: str, endpoint: str, row: Row,
             values: dict[str, Any], workshop_id: int):
    client, token = room_.client(role)
    url = _url(room_, endpoint, values)
    headers = {"X-CSRFToken": token}
    kwargs: dict[str, Any] = {}
    if method != "GET":
        if row.json is not None:
            kwargs["json"] = row.json(room_.world, workshop_id)
        else:
            kwargs["data"] = {**(row.form(room_.world, workshop_id) if row.form else {}),
                              "csrf_token": token}
    room_.refusals.count = 0
    room_.server_errors.clear()
    try:
        response = client.open(url, method=method, headers=headers, **kwargs)
        response.get_data()  # a streamed download fails while it is read
        response.close()
    except Exception:  # TESTING propagates what would be a 500
        pytest.fail(f"{method} {url} as {role}: 500\n{traceback.format_exc()}")
    return client, url, response


class Stored(dict):
    """What a request stored, by table; `elsewhere`: what it changed of the other workshop."""

    elsewhere: dict[str, str]


@contextlib.contextmanager
def _stored(room_: Room) -> Iterator[Stored]:
    """What the block stored (filled in when the block ends); then the world is put back.
    Each test starts from the world as built."""
    stored = Stored()
    stored.elsewhere = {}
    mark = room_.mark()
    try:
        yield stored
    finally:
        after = room_.rows_since(mark)
        if after is not None and after != room_.rows:
            stored.update(changed_tables(room_.rows, after))
            other = room_.world.other_id
            stored.elsewhere.update(changed_tables(workshop_rows(room_.rows, other),
                                                   workshop_rows(after, other)))
            room_.snapshot.restore()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("rule", "method", "endpoint"), ROUTES,
                         ids=[f"{m} {r}" for r, m, _e in ROUTES])
def test_http_route_answers_each_role_as_the_table_says(world_room, rule, method, endpoint,
                                                        role):
    row = _row(endpoint)
    w = world_room.world
    values = url_values(w) | {k: get(w) for k, get in row.ids.items()}
    with _stored(world_room) as stored:
        client, url, response = _request(world_room, role, method, endpoint, row, values,
                                          w.workshop_id)
    status = response.status_code
    what = f"{method} {url} as {role}: {status} {response.headers.get('Location', '')}"
    assert status < 500, f"{what}\n{world_room.server_errors.text()}"
    refused_by_form = status == 302 and world_room.refusals.count > 0 and any(
        category == "error" for category, _message in _flashes(client))
    if row.allowed == API:
        assert status == 401, f"{what}: a login cookie must not open the API"
    elif role in row.allowed:
        assert status not in (401, 403), f"{what}: refused, but ACCESS allows {role}"
        assert not _to_login(response, url), f"{what}: sent to log in, but ACCESS allows it"
        assert not refused_by_form, f"{what}: refusal flashed, but ACCESS allows {role}"
    else:
        assert status in (401, 403, 404) or _to_login(response, url) or refused_by_form, (
            f"{what}: answered, but ACCESS refuses {role}")
    if row.allowed == API or role not in row.allowed:
        assert not stored, f"{what}: refused, yet stored {stored}"
    assert not stored.elsewhere, f"{what}: changed the other workshop {stored.elsewhere}"


OUTSIDERS = ("other_delegate", "other_facilitator")
OBJECT_PARAMS = {"step_id", "ballot_id", "plan_id", "proposal_id", "comment_id", "delegate_id",
                 "suggestion_id"}
CROSS_ROUTES = [(r, m, e) for r, m, e in ROUTES if "<int:workshop_id>" in r
                and any(f":{p}>" in r for p in OBJECT_PARAMS)]


@pytest.mark.parametrize("role", OUTSIDERS)
@pytest.mark.parametrize(("rule", "method", "endpoint"), CROSS_ROUTES,
                         ids=[f"{m} {r}" for r, m, _e in CROSS_ROUTES])
def test_outsiders_reach_no_object_through_their_own_workshop(world_room, rule, method,
                                                              endpoint, role):
    """/w/<their workshop>/.../<an object of this one>: refused or not found, nothing stored."""
    row = _row(endpoint)
    if row.allowed == API:
        return
    w = world_room.world
    values = url_values(w) | {k: get(w) for k, get in row.ids.items()}
    values["workshop_id"] = w.other_id
    with _stored(world_room) as stored:
        client, url, response = _request(world_room, role, method, endpoint, row, values,
                                          w.other_id)
    status = response.status_code
    what = f"{method} {url} as {role}: {status} {response.headers.get('Location', '')}"
    assert status < 500, f"{what}\n{world_room.server_errors.text()}"
    flashed = status == 302 and any(c == "error" for c, _m in _flashes(client))
    assert status in (401, 403, 404) or _to_login(response, url) or flashed, (
        f"{what}: an object of another workshop was reached")
    assert not stored, f"{what}: stored {stored}"


REFUSED_EVENT = {"forbidden", "unauthorized"}
OBJECT_KEYS = {"step_id", "ballot_id", "plan_id", "proposal_id", "delegate_id", "holder_id",
               "absent_id", "change_id", "suggestion_id"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("event", EVENTS)
def test_socket_event_answers_each_role_as_the_table_says(world_room, event, role):
    row = _row(event)
    w = world_room.world
    assert row.payload is not None, f"ACCESS[{event!r}] needs a payload"
    sock = world_room.socket(role, w.workshop_id)
    watches = role in WATCHERS
    assert (sock is not None) is watches, (
        f"{role} {'could not' if watches else 'could'} open a socket on the workshop")
    if watches:
        payload = row.payload(w, w.workshop_id)
        with _stored(world_room) as stored:
            ack = _emit(world_room, sock, event, payload, role)
        what = f"{event} {payload} as {role}: {ack}"
        assert not stored.elsewhere, f"{what}: changed the other workshop {stored.elsewhere}"
        if role in row.allowed:
            assert ack.get("error") not in REFUSED_EVENT, f"{what}: ACCESS allows {role}"
        else:
            assert ack["ok"] is False, f"{what}: ACCESS refuses {role}"
            assert ack["error"] in REFUSED_EVENT, f"{what}: ACCESS refuses {role}"
            assert not stored, f"{what}: refused, yet stored {stored}"
    elif role in OUTSIDERS:
        assert role not in row.allowed
        sock = world_room.socket(role, w.other_id)
        assert sock is not None, f"{role} cannot open a socket on their own workshop"
        # This workshop's payload, from a socket of another workshop.
        payload = row.payload(w, w.workshop_id)
        with _stored(world_room) as stored:
            ack = _emit(world_room, sock, event, payload, role)
        assert ack["ok"] is False, ack
        assert "workshop_id" in ack.get("fields", {}), ack
        assert not stored, f"{event} {payload} as {role}: stored {stored}"
        # Their own workshop's id, this workshop's objects.
        payload = row.payload(w, w.other_id)
        if OBJECT_KEYS & set(payload):
            with _stored(world_room) as stored:
                ack = _emit(world_room, sock, event, payload, role)
            what = f"{event} {payload} as {role}: {ack}"
            assert ack["ok"] is False, f"{what}: an object of another workshop was reached"
            assert ack["error"] in ("forbidden", "not_found", "validation"), what
            assert not stored, f"{what}: stored {stored}"


def _emit(room_: Room, sock, event: str, payload: Any, role: str) -> dict:
    room_.server_errors.clear()
    sock.get_received()
    ack = sock.emit(event, payload, callback=True)
    assert isinstance(ack, dict), f"{event} as {role}: no acknowledgement ({ack!r})"
    assert ack.get("error") != "server", (
        f"{event} {payload} as {role}: server error\n" + room_.server_errors.text())
    assert ack.get("error") != "rate_limited", ack
    return ack
