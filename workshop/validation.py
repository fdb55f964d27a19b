"""The schema layer: every form, JSON body and socket payload is parsed here.

Schemas are pydantic models. `parse` turns pydantic's errors into one translated message per
field, so a wrong or missing field always names itself, whichever door the input came in by.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic import ValidationError as PydanticError
from werkzeug.datastructures import MultiDict

from workshop.errors import ValidationFailed

M = TypeVar("M", bound=BaseModel)


class Schema(BaseModel):
    """Base of every input schema: unknown fields are refused, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


#: No NUL character: PostgreSQL cannot store one in text (a 500 instead of a clear answer).
NO_NUL = r"^[^\x00]*$"


def chars(max_length: int, min_length: int = 1) -> Any:
    """A stripped string type with length bounds (user text of one line or a paragraph)."""
    return Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length,
                               pattern=NO_NUL)
    ]


def _message(err: Mapping[str, Any]) -> str:
    """A translated message for one pydantic error."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "string_too_short":
        if ctx.get("min_length", 1) <= 1:
            return _("This field is required.")
        return _("Enter at least %(n)s characters.", n=ctx.get("min_length"))
    if kind == "string_too_long":
        return _("Enter at most %(n)s characters.", n=ctx.get("max_length"))
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Enter a whole number.")
    if kind in ("greater_than_equal", "greater_than"):
        return _("Enter a number of at least %(n)s.", n=ctx.get("ge", ctx.get("gt")))
    if kind in ("less_than_equal", "less_than"):
        return _("Enter a number of at most %(n)s.", n=ctx.get("le", ctx.get("lt")))
    if kind in ("literal_error", "enum"):
        return _("Choose one of the offered values.")
    if kind in ("date_parsing", "date_from_datetime_parsing", "date_type"):
        return _("Enter a date as YYYY-MM-DD.")
    if kind == "extra_forbidden":
        return _("This field is not expected.")
    if kind in ("string_type", "bool_type", "bool_parsing", "list_type", "dict_type",
                "model_type", "model_attributes_type"):
        return _("This value has the wrong type.")
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == NO_NUL:
        return _("This text contains characters that cannot be stored.")
    if kind == "value_error":
        return str(ctx.get("error", _("This value is not valid.")))
    return _("This value is not valid.")


def errors_by_field(exc: PydanticError) -> dict[str, str]:
    """One message per field path ("name", "steps.2.title"); the first error of a field wins."""
    out: dict[str, str] = {}
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ())) or "payload"
        out.setdefault(loc, _message(err))
    return out


def _form_to_dict(form: MultiDict) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token":
            continue
        # An empty form field means "not given": required fields then say so, optional ones
        # take their default.
        values = [v for v in form.getlist(key) if v != ""]
        if values:
            data[key] = values if len(values) > 1 else values[0]
    return data


def parse(schema: type[M], data: Any) -> M:
    """Validate `data` (a dict, a form MultiDict or anything a client sent) against `schema`.

    :raise ValidationFailed: with one message per wrong or missing field.
    """
    if isinstance(data, MultiDict):
        data = _form_to_dict(data)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ValidationFailed(_("The request must be an object of named fields."),
                               payload=_("This value has the wrong type."))
    try:
        return schema.model_validate(dict(data))
    except PydanticError as exc:
        raise ValidationFailed(_("Some fields need correcting."), **errors_by_field(exc)) from None
