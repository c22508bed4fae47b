"""Text as we store it: Unicode NFC, trimmed, inner whitespace collapsed."""

from __future__ import annotations

import unicodedata


def clean(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).split())
