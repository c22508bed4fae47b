"""Vietnamese personal names: folded for search, and keyed for staff lists in Vietnamese order.

`fold` is what a name search compares: lower case, without tone or vowel marks, đ read as d,
words of letters and digits separated by one space. "NGUYỄN VĂN AN", "nguyen van an" and the
same name typed in NFD all fold to "nguyen van an". It is a pure function of the text, so its
result can be stored beside the name and indexed (ADR 0015).

`sort_key` orders names as Vietnamese staff lists do: by the given name (the last word), then by
the rest, each compared as ICU's Vietnamese collation (CLDR `vi`, PostgreSQL's `vi-VN-x-icu`)
compares them: letter by letter in the alphabet a ă â b c d đ e ê … o ô ơ … u ư … y, so that D
comes before Đ and Dũng before Đức; then by the tones (none, huyền, hỏi, ngã, sắc, nặng); then lower
case before upper. The key is bytes compared byte by byte, so any store sorts it the same way with
its plainest comparison.
"""

from __future__ import annotations

import unicodedata

ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
"""Vietnamese letters in their order, with the Latin letters Vietnamese lacks (f, j, w, z) where
ICU puts them."""

_MODIFIED = {
    ("a", "\u0306"): "ă",  # breve
    ("a", "\u0302"): "â",  # circumflex
    ("e", "\u0302"): "ê",
    ("o", "\u0302"): "ô",
    ("o", "\u031b"): "ơ",  # horn
    ("u", "\u031b"): "ư",
}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
"""Huyền, hỏi, ngã, sắc, nặng: the order ICU's Vietnamese collation gives them (no tone first)."""

_LEVEL, _PART = b"\x01", b"\x00"
"""Separators below every weight: between the levels of one part's key, between the parts."""
_SPACE, _PUNCTUATION, _DIGIT, _LETTER, _OTHER = 0x02, 0x03, 0x10, 0x20, 0x7F


def fold(text: str) -> str:
    """The text as a name search compares it: see the module's description."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join("".join(c if c.isalnum() else " " for c in stripped.lower()).split())


def words(text: str) -> list[str]:
    """The folded words of `text`, each of which a matching name must have a word starting with."""
    return fold(text).split()


def sort_key(full_name: str) -> bytes:
    """The key of a staff list's order: the given name, then the rest of the name."""
    parts = " ".join(unicodedata.normalize("NFC", full_name).split()).rsplit(" ", 1)
    given, rest = (parts[-1], parts[0]) if len(parts) == 2 else (parts[0], "")
    return _key(given) + _PART + _key(rest)


def _key(text: str) -> bytes:
    """ICU's three levels for `text`: the letters, then their tones, then their case."""
    primary, secondary, tertiary = bytearray(), bytearray(), bytearray()
    for char in text:
        decomposed = unicodedata.normalize("NFD", char)
        base, marks = decomposed[0], decomposed[1:]
        lower = base.lower()
        letter = next((_MODIFIED[lower, m] for m in marks if (lower, m) in _MODIFIED), lower)
        if letter in ALPHABET:
            primary.append(_LETTER + ALPHABET.index(letter))
        elif letter.isdigit() and letter.isascii():
            primary.append(_DIGIT + int(letter))
        elif letter.isspace():
            primary.append(_SPACE)
        elif not letter.isalnum():
            primary.append(_PUNCTUATION)
        else:
            primary += bytes((_OTHER,)) + ord(letter).to_bytes(3, "big")
        secondary.append(2 + next((_TONES[m] for m in marks if m in _TONES), 0))
        tertiary.append(3 if char != char.lower() else 2)
    return bytes(primary) + _LEVEL + bytes(secondary) + _LEVEL + bytes(tertiary)
