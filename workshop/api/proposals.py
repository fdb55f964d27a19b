"""API of proposals: the lines of work as staff see them, and importing consultation files.

Delegates put proposals forward from their phones (`proposal.create` is theirs alone); the
API reads them, counted as the discussion page counts them, and imports the input priorities
of country consultations through the same all-or-nothing service as the import page.
"""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from workshop.api.core import ID, WORKSHOP, actor, answer, operation, workshop_for
from workshop.api.schemas import ImportOut, ProposalOut, utc
from workshop.errors import NotFound, ValidationFailed
from workshop.proposals import importing, services
from workshop.proposals.lines import Line, lines_of

IMPORT_BODY = {
    "required": True,
    "content": {"multipart/form-data": {
        "schema": {
            "type": "object",
            "properties": {"file": {"type": "string", "format": "binary",
                                    "description": "A .csv (UTF-8) or .xlsx file, with a "
                                                   "header row naming its columns."}},
            "required": ["file"],
        },
    }},
}


def proposal_out(line: Line) -> ProposalOut:
    """A line of work as the API shows it."""
    p = line.proposal
    return ProposalOut(
        id=p.id, title=p.title, description=p.description, theme=p.theme, level=p.level,
        tags=list(p.tags or []), language=p.language, source=p.source, country=p.country,
        region=p.region, hidden=p.hidden, hidden_reason=p.hidden_reason,
        created_at=utc(p.created_at), updated_at=utc(p.updated_at),
        supporters=len(line.supporters), comments=line.comment_count,
        members=[m.id for m in line.members], organisations=line.organisations,
        regions=line.regions,
        translations=[{"language": t.language, "title": t.title, "description": t.description}
                      for t in p.translations],
    )


@operation("GET", f"{WORKSHOP}/proposals", "proposal.list", "workshop.watch", tag="proposals",
           out=list[ProposalOut], errors=(404,))
def list_proposals(workshop_id: int):
    """The workshop's lines of work (hidden ones too, marked), with supporters and comments
    of everything merged into each counted once per person."""
    workshop = workshop_for("workshop.watch", workshop_id)
    lines = lines_of(actor(), workshop, include_hidden=True)
    return answer([proposal_out(line) for line in lines])


@operation("GET", f"{WORKSHOP}/proposals/<{ID}:proposal_id>", "proposal.get", "workshop.watch",
           tag="proposals", out=ProposalOut, errors=(404,))
def get_proposal(workshop_id: int, proposal_id: int):
    """One line of work. A proposal merged into another answers with the line it is part of
    (compare `id`)."""
    workshop = workshop_for("workshop.watch", workshop_id)
    proposal = services.get_proposal(workshop, proposal_id)
    while proposal.merged_into_id is not None:
        proposal = services.get_proposal(workshop, proposal.merged_into_id)
    lines = lines_of(actor(), workshop, include_hidden=True, only=proposal.id)
    if not lines:
        raise NotFound(_("This proposal does not exist."), proposal_id=_("Unknown proposal."))
    return answer(proposal_out(lines[0]))


@operation("POST", f"{WORKSHOP}/proposals/import", "proposal.import", "proposal.import",
           tag="proposals", out=ImportOut, status=201, request_body=IMPORT_BODY)
def import_proposals(workshop_id: int):
    """Import a consultation's input priorities from a CSV or XLSX file (organisers).

    The whole file is checked first; one bad row imports nothing, and the problem's `errors`
    name every wrong cell by row number and column (`3.theme`: row 3 of the file, counting
    the header as row 1; `0.file`: the file itself).
    """
    workshop = workshop_for("proposal.import", workshop_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed(_("Choose a file to upload."), file=_("This field is required."))
    filename, data = upload.filename, upload.read()
    checked = importing.preview(filename, data)
    if not checked.ok:
        errors = {f"{e.row}.{e.field}": e.message for e in checked.errors}
        if not errors:
            errors = {"0.file": _("The file is empty.")}
        raise ValidationFailed(_("The file has errors: nothing was imported."), **errors)
    count = importing.import_proposals(actor(), workshop, filename, data)
    return answer(ImportOut(imported=count), 201)
