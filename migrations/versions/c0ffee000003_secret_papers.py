"""Secret papers keep only what their weighting needs: region only under regional balance, a keyed organisation hash under one organisation one vote, nothing else; running regional totals per secret ballot; a proxy's paper tagged so the delegate can take it back; the small-cell k per ballot.

Existing secret papers are stripped the same way (the regional totals of open secret ballots
are built from them first), and the frozen results of closed secret ballots lose their small
cells and their breakdown by organisation type. Downgrading keeps the data it can: secret papers
stay without organisation and type.

Revision ID: c0ffee000003
Revises: c0ffee000005
Create Date: 2026-11-24 10:00:00.000000

"""
import hashlib
import hmac
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c0ffee000003"
down_revision = "c0ffee000005"
branch_labels = None
depends_on = None

_KEY_LABEL = b"workshop.voting.secrecy:v1"  # as workshop/voting/secrecy.py


def _config(name, default):
    try:
        from flask import current_app

        return current_app.config.get(name, default)
    except RuntimeError:
        return default


def _key():
    secret = _config("SECRET_KEY", "") or ""
    raw = secret.encode() if isinstance(secret, str) else bytes(secret)
    return hmac.new(raw, _KEY_LABEL, hashlib.sha256).digest()


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _components(method, stored, options):
    """tally.paper_components of a stored choice (kept here: migrations do not import the app)."""
    n = len(options)
    index = {o: i for i, o in enumerate(options)}
    if method == "approval":
        row = [0] * n
        for o in stored:
            row[index[o]] = 1
        return [row]
    if method == "points":
        row = [0] * n
        for o, p in stored:
            row[index[o]] = p
        return [row]
    if method == "ranking":
        row = [max(n - len(stored) - 1, 0)] * n
        for position, o in enumerate(stored):
            row[index[o]] = 2 * (n - 1 - position)
        return [row]
    first, second, rated = [0] * n, [0] * n, [0] * n
    for o, a, b in stored:
        first[index[o]], second[index[o]], rated[index[o]] = a, b, 1
    return [first, second, rated]


def _hidden(counts, k):
    """secrecy.hidden_cells."""
    hidden = {c for c, n in counts.items() if n < k}
    if not hidden:
        return hidden
    shown = sorted((n, c) for c, n in counts.items() if c not in hidden)
    while shown and (len(hidden) < 2 or sum(counts[c] for c in hidden) < k):
        hidden.add(shown.pop(0)[1])
    return hidden


def _strip_results(results, k):
    """Frozen results of a closed secret ballot, small cells and type breakdown withheld."""
    turnout = results.get("turnout_by_region") or {}
    counts = {r: t.get("count", 0) for r, t in turnout.items()}
    hidden = _hidden(counts, k)
    for s in results.get("standings", []):
        s["by_region"] = {r: v for r, v in (s.get("by_region") or {}).items() if r not in hidden}
        s["region_shares"] = {r: v for r, v in (s.get("region_shares") or {}).items()
                              if r not in hidden}
        s["by_org_type"] = {}
        s["consensus"] = min(s["region_shares"].values()) if s["region_shares"] else None
    results["turnout_by_region"] = {r: t for r, t in turnout.items() if r not in hidden}
    results["turnout_by_org_type"] = {}
    results["secrecy"] = {
        "min_cell": k,
        "hidden_regions": {r: {"eligible": turnout[r].get("eligible", 0)} for r in sorted(hidden)},
        "hidden_org_types": [],
        "region_breakdown": "weighted",
        "by_org_type": False,
        "choices_listed": False,
        "legacy": True,
    }
    return results


def upgrade():
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_cell', sa.Integer(), nullable=True))

    op.create_table('ballot_region_tally',
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('region', sa.String(length=40), nullable=False),
    sa.Column('voters', sa.Integer(), nullable=False),
    sa.Column('sums', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], name=op.f('fk_ballot_region_tally_ballot_id_ballot'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ballot_id', 'region', name=op.f('pk_ballot_region_tally'))
    )

    with op.batch_alter_table('ballot_vote', schema=None,
                              table_kwargs={"sqlite_with_rowid": False}) as batch_op:
        batch_op.add_column(sa.Column('org_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('proxy_tag', sa.String(length=64), nullable=True))
        batch_op.alter_column('region', existing_type=sa.String(length=40), nullable=True)
        batch_op.alter_column('org_type', existing_type=sa.String(length=40), nullable=True)
        batch_op.create_unique_constraint('uq_ballot_vote_proxy_tag', ['ballot_id', 'proxy_tag'])

    _strip_secret_papers()


def _strip_secret_papers():
    conn = op.get_bind()
    k = int(_config("SECRET_MIN_CELL", 5) or 5)
    key = _key()
    ballots = conn.execute(sa.text(
        "SELECT id, method, weighting, status, results FROM ballot WHERE secret = :yes"),
        {"yes": True}).all()
    conn.execute(sa.text("UPDATE ballot SET min_cell = :k WHERE secret = :yes"),
                 {"k": k, "yes": True})
    for ballot_id, method, weighting, status, results in ballots:
        votes = conn.execute(sa.text(
            "SELECT id, choices, region, organisation_id FROM ballot_vote WHERE ballot_id = :b"),
            {"b": ballot_id}).all()
        if status == "open":
            options = [o for (o,) in conn.execute(sa.text(
                "SELECT proposal_id FROM ballot_option WHERE ballot_id = :b "
                "ORDER BY proposal_id"), {"b": ballot_id})]
            totals = {}
            for _id, choices, region, _org in votes:
                parts = _components(method, _json(choices), options)
                voters, sums = totals.get(region, (0, [[0] * len(p) for p in parts]))
                totals[region] = (voters + 1, [[a + b for a, b in zip(s, p)]
                                               for s, p in zip(sums, parts)])
            for region, (voters, sums) in totals.items():
                conn.execute(sa.text(
                    "INSERT INTO ballot_region_tally (ballot_id, region, voters, sums) "
                    "VALUES (:b, :r, :n, :s)").bindparams(sa.bindparam("s", type_=sa.JSON)),
                    {"b": ballot_id, "r": region, "n": voters, "s": sums})
        for vote_id, _choices, region, org in votes:
            org_key = None
            if weighting == "organisation" and org is not None:
                org_key = hmac.new(key, f"org:{ballot_id}:{org}".encode(),
                                   hashlib.sha256).hexdigest()
            conn.execute(sa.text(
                "UPDATE ballot_vote SET organisation_id = NULL, org_type = NULL, "
                "source = NULL, delegate_id = NULL, region = :region, org_key = :org_key "
                "WHERE id = :id"),
                {"region": region if weighting == "region" else None, "org_key": org_key,
                 "id": vote_id})
        if results is not None:
            conn.execute(sa.text("UPDATE ballot SET results = :r WHERE id = :b")
                         .bindparams(sa.bindparam("r", type_=sa.JSON)),
                         {"r": _strip_results(_json(results), k), "b": ballot_id})


def downgrade():
    op.execute("UPDATE ballot_vote SET region = '' WHERE region IS NULL")
    op.execute("UPDATE ballot_vote SET org_type = '' WHERE org_type IS NULL")
    with op.batch_alter_table('ballot_vote', schema=None,
                              table_kwargs={"sqlite_with_rowid": False}) as batch_op:
        batch_op.drop_constraint('uq_ballot_vote_proxy_tag', type_='unique')
        batch_op.alter_column('org_type', existing_type=sa.String(length=40), nullable=False)
        batch_op.alter_column('region', existing_type=sa.String(length=40), nullable=False)
        batch_op.drop_column('proxy_tag')
        batch_op.drop_column('org_key')

    op.drop_table('ballot_region_tally')
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.drop_column('min_cell')
