"""The schema layer: every form, JSON body and socket payload is parsed here.

Schemas are pydantic models. `parse` turns pydantic's errors into one translated message per
field, so a wrong or missing field always names itself, whichever door the input came in by.

What every door shares is typed here once:
- ids (`Id`, and the `int` URL converter `IdConverter`) are bounded by the database's range,
  so a huge number is a clear refusal (422, or 404 in a URL), never an overflow (500);
- user text (`chars`) is NFC-normalised, refuses control and format characters (bidi
  overrides, zero-width spaces, NUL; line breaks only where the field is multi-line) and
  needs a visible character, so a name can be neither invisible nor reverse the audit log;
- JSON (request bodies through `JSONProvider`, socket packets through `SocketJSON`) is
  refused past `MAX_JSON_DEPTH` levels of nesting, a clear 400/422 instead of a
  RecursionError.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from flask import request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic import ValidationError as PydanticError
from pydantic_core import PydanticCustomError
from socketio.packet import Packet
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound as HttpNotFound
from werkzeug.routing import IntegerConverter

from workshop.errors import MalformedBody, ValidationFailed

M = TypeVar("M", bound=BaseModel)

# --- Ids --------------------------------------------------------------------------------------

#: The largest id the database holds (a 32-bit integer column on PostgreSQL).
MAX_ID = 2**31 - 1
#: An id in a payload: a larger number is refused by name, never an overflow.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


_WHOLE = re.compile(r"-?[0-9]{1,18}")


def whole_number(text: Any) -> int | None:
    """The integer `text` spells in ASCII digits (an optional minus, at most 18 digits), or
    None: never int()'s errors on "²", "١" or a number thousands of digits long."""
    return int(text) if isinstance(text, str) and _WHOLE.fullmatch(text) else None


class IdConverter(IntegerConverter):
    """The app's `int` URL converter: an id past MAX_ID names nothing, so the answer is 404.

    The pattern takes at most 10 digits, so a longer number matches no route at all; a
    10-digit number past MAX_ID is refused here with NotFound (not werkzeug's ValidationError,
    which turns into a 405 when another method shares the path).
    """

    regex = r"[0-9]{1,10}"

    def to_python(self, value: str) -> int:
        """The id, or NotFound when it is past MAX_ID."""
        number = int(value)
        if number > MAX_ID:
            raise HttpNotFound()
        return number


class Schema(BaseModel):
    """Base of every input schema: unknown fields are refused, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


# --- Text -------------------------------------------------------------------------------------

#: No NUL character: PostgreSQL cannot store one in text (a 500 instead of a clear answer).
NO_NUL = r"^[^\x00]*$"
#: Format characters that scripts need between letters (Devanagari, Bengali, Khmer conjuncts;
#: emoji sequences): kept, while every other format character (bidi overrides and isolates,
#: zero-width spaces, word joiners, byte-order marks, tags) is refused.
JOINERS = frozenset("\u200c\u200d")
#: Line breaks (a multi-line text may hold them, and tabs).
LINE_BREAKS = frozenset("\n\r\u2028\u2029")
#: Letters and symbols that draw nothing (Hangul fillers, the blank braille pattern).
BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


#: The ASCII characters `text_problem` refuses in one line (controls, line breaks and tabs
#: included) and in several (controls but line breaks and tabs).
_ASCII_REFUSED = {False: re.compile(r"[\x00-\x1f\x7f]"),
                  True: re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")}


def text_problem(text: str, multiline: bool = False) -> str | None:
    """Why `text` cannot be stored as user text, as an error type, or None when it can.

    "text_line_break": a line break in a one-line field; "text_control": a control, format
    or surrogate character (NUL, bidi overrides, zero-width spaces...).
    """
    if text.isascii():  # most of what phones send: one search in C instead of a Python loop
        found = _ASCII_REFUSED[multiline].search(text)
        if found is None:
            return None
        return "text_line_break" if found.group() in LINE_BREAKS else "text_control"
    for ch in text:
        if ch in LINE_BREAKS:
            if not multiline:
                return "text_line_break"
            continue
        if ch == "\t" and multiline:
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs") or (category == "Cf" and ch not in JOINERS):
            return "text_control"
    return None


def is_visible(text: str) -> bool:
    """True when some character of `text` draws something: a letter, digit, punctuation mark
    or symbol (not a space, a combining mark alone or a filler)."""
    return any(unicodedata.category(ch)[0] in "LNPS" and ch not in BLANKS for ch in text)


def _nfc(value: Any) -> Any:
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


_TEXT_ERRORS = {
    "text_control": "This text contains invisible or control characters.",
    "text_line_break": "This field takes a single line.",
    "text_invisible": "Enter visible text.",
}


def _text_checker(multiline: bool):
    def check(value: str) -> str:
        problem = text_problem(value, multiline)
        if problem is None and value and not is_visible(value):
            problem = "text_invisible"
        if problem is not None:
            raise PydanticCustomError(problem, _TEXT_ERRORS[problem])
        return value

    return check


def chars(max_length: int, min_length: int = 1, multiline: bool = False) -> Any:
    """User text (a name, a title, a paragraph): NFC, stripped, length-bounded, printable.

    Refuses control and format characters (line breaks too, unless `multiline`) and, when not
    empty, text without a visible character; the error names the field.
    """
    # The constraints first, so pydantic keeps them in the string schema (its own messages);
    # a BeforeValidator still runs before them (NFC first, then strip and lengths).
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        BeforeValidator(_nfc),
        AfterValidator(_text_checker(multiline)),
    ]


def opaque(max_length: int) -> Any:
    """Text compared exactly as typed (a password): bounded and NUL-free, never normalised."""
    return Annotated[str, StringConstraints(min_length=1, max_length=max_length,
                                            pattern=NO_NUL)]


# --- JSON -------------------------------------------------------------------------------------

#: Deepest nesting a JSON body or socket payload may have (ours need four or five levels).
MAX_JSON_DEPTH = 32


class JSONTooDeep(ValueError):
    """A JSON document nested deeper than MAX_JSON_DEPTH."""


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when `value` (parsed JSON) nests lists and objects deeper than `limit`.

    Walks without recursion, so a hostile document cannot exhaust the stack here either.
    """
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, dict | list))
    return False


def load_json(text: str | bytes) -> Any:
    """Parse JSON, refusing documents nested deeper than MAX_JSON_DEPTH.

    :raise JSONTooDeep: too deep (also where the parser itself would run out of stack).
    :raise ValueError: not JSON.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise JSONTooDeep(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    if _brackets(text) > MAX_JSON_DEPTH and json_depth_exceeds(value):
        raise JSONTooDeep(f"nested deeper than {MAX_JSON_DEPTH} levels")
    return value


def _brackets(text: str | bytes) -> int:
    """How many lists and objects the text could open at most (brackets inside strings
    counted too): no deeper than that, so a small payload, every vote's, needs no walk."""
    if isinstance(text, str):
        return text.count("[") + text.count("{")
    return text.count(b"[") + text.count(b"{")


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, with request bodies parsed by `load_json` (bounded nesting)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse a request body; a too-deep one is a ValueError, as any malformed body."""
        if kwargs:
            return super().loads(s, **kwargs)
        return load_json(s)


class _TooDeep:
    """Stands for a socket payload nested too deeply; `parse` refuses it by name."""

    def __repr__(self) -> str:
        return "<payload nested too deeply>"


TOO_DEEP = _TooDeep()
_EVENT_NAME = re.compile(r'\s*\[\s*("(?:[^"\\]|\\.){0,100}")')


#: How python-socketio has a packet's data encoded (socketio/packet.py).
_PACKET_SEPARATORS = {"separators": (",", ":")}
_PACKET_ENCODER = json.JSONEncoder(**_PACKET_SEPARATORS)


class SharedAnswer(dict):
    """An answer that many sockets get alike (a group read's, drawn once a batch): read-only,
    its acknowledgement made once for all of them (`acknowledgement`), and that one's JSON
    encoded once and sent as it is to each (SocketJSON.dumps). A ballot's state and turnout
    is about 700 bytes of JSON, some 20 us to encode: a thousand phones asking at once
    encoded it a thousand times."""

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a shared answer is read-only: copy it to change it")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _read_only
    __ior__ = _read_only

    def copy(self) -> dict[str, Any]:
        """A plain dict of the same items, to change."""
        return dict(self)

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict) -> dict[str, Any]:
        return copy.deepcopy(dict(self), memo)

    def __reduce__(self) -> tuple:
        return dict, (dict(self),)  # pickled (a message queue, say) as the plain dict it is

    def acknowledgement(self) -> SharedAnswer:
        """The answer as a socket event acknowledges with it (`"ok": true` first), the same
        object for every asker."""
        ack = self.__dict__.get("ack")
        if ack is None:
            ack = self.__dict__["ack"] = SharedAnswer({"ok": True, **self})
        return ack

    def packet_json(self) -> str:
        """Its JSON as a Socket.IO packet carries it (made once)."""
        text = self.__dict__.get("json")
        if text is None:
            text = self.__dict__["json"] = _PACKET_ENCODER.encode(self)
        return text


class SocketJSON:
    """The JSON of Socket.IO packets: a payload nested too deeply reaches its handler as
    TOO_DEEP (its event name kept), so the sender gets a clear refusal in the ack instead of
    a parser's RecursionError; a `SharedAnswer` goes out as the JSON it made once."""

    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        """Encode as the standard library does (a packet's one shared answer: its JSON)."""
        if (type(obj) is list and len(obj) == 1 and type(obj[0]) is SharedAnswer
                and kwargs == _PACKET_SEPARATORS):
            return f"[{obj[0].packet_json()}]"
        return json.dumps(obj, **kwargs)

    @staticmethod
    def loads(text: str | bytes, **kwargs: Any) -> Any:
        """Decode, replacing a too-deep event's arguments by TOO_DEEP.

        :raise ValueError: not JSON, or too deep and not an event (no name to answer).
        """
        try:
            return load_json(text)
        except JSONTooDeep:
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            found = _EVENT_NAME.match(text)
            if found is None:
                raise
            return [json.loads(found.group(1)), TOO_DEEP]


class SocketPacket(Packet):
    """A Socket.IO packet as ours are sent: its JSON by SocketJSON, and a `SharedAnswer`
    (JSON values only: it is never searched for bytes) not walked for binary parts at every
    send, as python-socketio walks each packet's data (a 700-byte answer: a tenth of a
    re-read's cost). Anything else is searched as python-socketio does, stopping at the
    first binary part."""

    json = SocketJSON

    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        """Whether the data holds bytes anywhere (then it goes as a binary packet)."""
        if type(data) is SharedAnswer:
            return False
        if isinstance(data, (bytes, bytearray)):
            return True
        if isinstance(data, list):
            return any(cls.data_is_binary(item) for item in data)
        if isinstance(data, dict):
            return any(cls.data_is_binary(item) for item in data.values())
        return False


def json_payload() -> Any:
    """The request's JSON body, or None when it has none.

    :raise MalformedBody: the body is not JSON, or is nested too deeply.
    """
    if not request.get_data(cache=True):
        return None
    try:
        return load_json(request.get_data(cache=True))
    except JSONTooDeep:
        raise MalformedBody(_("The body is nested too deeply (at most %(n)s levels).",
                              n=MAX_JSON_DEPTH)) from None
    except ValueError:
        raise MalformedBody(_("The body must be JSON.")) from None


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
    if kind == "text_control":
        return _("This text contains invisible or control characters: remove them.")
    if kind == "text_line_break":
        return _("This field takes a single line.")
    if kind == "text_invisible":
        return _("Enter some visible text.")
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
    if data is TOO_DEEP:
        raise ValidationFailed(_("Some fields need correcting."),
                               payload=_("This value is nested too deeply."))
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ValidationFailed(_("The request must be an object of named fields."),
                               payload=_("This value has the wrong type."))
    try:
        return schema.model_validate(dict(data))
    except PydanticError as exc:
        raise ValidationFailed(_("Some fields need correcting."), **errors_by_field(exc)) from None
