"""Text as we store it: Unicode NFC, trimmed, inner whitespace collapsed; control characters refused.

Control characters are never stripped silently: a value holding one is refused, naming the field.
Identifiers (personal id, staff number, unit codes and paths, usernames) are ASCII; their patterns
spell out ASCII classes (`[0-9]`, `[A-Z]`) because `\\d` and `\\w` match any script's digits and letters.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from qlcb_common.errors import FieldViolation

_REFUSED = frozenset({"Cc", "Cf", "Cs"})
"""Controls (NUL, BEL, ESC, DEL, C1), format characters (bidi overrides, zero-width), lone surrogates."""

_LINE_BREAKS = frozenset({"Zl", "Zp"})
"""U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR: line breaks, refused in single-line text."""

_MULTILINE = frozenset("\t\n\r")
"""Tab and line ends: the only controls multi-line text may hold."""


def clean(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).split())


def control_characters(value: str, *, multiline: bool = False) -> list[str]:
    """The characters of `value` that stored text may not hold, each once, in order of appearance:
    categories Cc, Cf and lone surrogates; in single-line text also tab and line breaks."""
    if value.isprintable():
        # None of those is printable (Python's "Other" and "Separator" categories but the space):
        # almost every value is answered here, at C speed, without the loop below.
        return []
    found: dict[str, None] = {}
    for char in value:
        category = unicodedata.category(char)
        if multiline and char in _MULTILINE:
            continue
        if category in _REFUSED or (not multiline and category in _LINE_BREAKS):
            found[char] = None
    return list(found)


def control_message(found: list[str]) -> str:
    """Why a value holding the control characters `found` is refused (Vietnamese, as users read it)."""
    return "Không được chứa ký tự điều khiển: " + ", ".join(f"U+{ord(char):04X}" for char in found)


def control_violation(field: str, value: str, *, multiline: bool = False) -> FieldViolation | None:
    """A violation naming `field` when `value` holds control characters, else None."""
    found = control_characters(value, multiline=multiline)
    return FieldViolation(field, control_message(found)) if found else None


def _refuse_controls(value: object, *, multiline: bool) -> object:
    """Runs before pydantic's own string checks, which would refuse a lone surrogate in English, and
    before the length limits, so that they count characters of the NFC text."""
    if not isinstance(value, str):
        return value
    found = control_characters(value, multiline=multiline)
    if found:
        raise PydanticCustomError("control_character", "{message}", {"message": control_message(found)})
    return unicodedata.normalize("NFC", value)


def _single_line(value: object) -> object:
    checked = _refuse_controls(value, multiline=False)
    return clean(checked) if isinstance(checked, str) else checked


def _multi_line(value: object) -> object:
    return _refuse_controls(value, multiline=True)


def _verbatim_line(value: object) -> object:
    return _refuse_controls(value, multiline=False)


SingleLineText = Annotated[str, BeforeValidator(_single_line)]
"""A name, title or number as stored (NFC, trimmed, inner spaces collapsed: spaces alone are no text
for a `min_length`); a control character, tab or line break is refused (422 naming the field)."""

MultiLineText = Annotated[str, BeforeValidator(_multi_line)]
"""A reason or note in NFC: tabs and line ends allowed, any other control character refused."""

VerbatimLine = Annotated[str, BeforeValidator(_verbatim_line)]
"""A value compared as written elsewhere (a claim of an agency's token, a client id): in NFC, a
control character, tab or line break refused, but its spaces kept as they are."""
