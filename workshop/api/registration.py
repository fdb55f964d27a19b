"""API of registration: import a file of delegates (the organisers' page's service), and
withdraw a delegate's invitation link.

Invitation tokens are stored hashed: the answer of an import is the one moment its links are
known, so it carries every link (and the e-mail address the file gave, for a mail merge).
"""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from workshop.agenda import delegates as delegate_services
from workshop.api.core import ID, WORKSHOP, actor, answer, operation, public_url, workshop_for
from workshop.api.schemas import DelegateOut, InvitationOut
from workshop.api.workshops import delegate_out
from workshop.errors import ValidationFailed
from workshop.registration import services

REGISTRATION_BODY = {
    "required": True,
    "content": {"multipart/form-data": {
        "schema": {
            "type": "object",
            "properties": {"file": {
                "type": "string", "format": "binary",
                "description": "A .csv (UTF-8) or .xlsx file, one delegate a row, with a header "
                               "row naming its columns: name, email (optional), organisation, "
                               "country, region, type, language."}},
            "required": ["file"],
        },
    }},
}


class RegisteredOut(InvitationOut):
    """A delegate the file invited: their personal link, shown this once, and the e-mail
    address of their row (not stored) for a mail merge."""

    email: str


@operation("POST", f"{WORKSHOP}/registrations", "registration.import", "registration.import",
           tag="delegates", out=list[RegisteredOut], status=201,
           errors=(404, 409, 422, 503), request_body=REGISTRATION_BODY)
def import_registrations(workshop_id: int):
    """Import delegates from a CSV or XLSX file (organisers): all of them, or none.

    Organisations are matched by name, or created from the row's country, region and type.
    The whole file is checked first; one bad row imports nobody, and the problem's `errors`
    name every wrong cell by row number and column (`3.email`: row 3 of the file, counting
    the header as row 1; `0.file`: the file itself, e.g. too large, too many rows, or an
    XLSX that unpacks to too much). The answer holds every personal link, shown once.
    """
    workshop = workshop_for("registration.import", workshop_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationFailed(_("Choose a file to upload."), file=_("This field is required."))
    issued = services.import_file(actor(), workshop, upload.filename, upload.read())
    return answer([RegisteredOut(delegate=delegate_out(i.delegate), token=i.token,
                                 invite_url=public_url("phone.invitation", token=i.token),
                                 email=i.email) for i in issued], 201)


@operation("POST", f"{WORKSHOP}/delegates/<{ID}:delegate_id>/revoke", "delegate.revoke",
           "delegate.revoke", tag="delegates", out=DelegateOut, errors=(404, 409, 422))
def revoke_invitation(workshop_id: int, delegate_id: int):
    """Withdraw a delegate's invitation link (organisers): the link, a badge printed from it
    and every login made with it stop working. The delegate stays in the workshop."""
    workshop = workshop_for("delegate.revoke", workshop_id)
    delegate = delegate_services.revoke_invitation(actor(), workshop, delegate_id)
    return answer(delegate_out(delegate))
