"""Built-in recognizers for personal numbers, with checksums.

Mainland mobile numbers, resident ID numbers (GB 11643 check digit) and bank cards (Luhn),
written as digits, with separators, or spoken digit by digit in Chinese (幺三八…): the text is
normalized first and spans are mapped back to the original. A checksum that fails drops the
candidate (a random 18-digit string is not an ID number).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa_toolkit.text.normalize import NormText, normalize

_SEP = r"[ \-,]?"  # groups read out with pauses come back with commas
_PATTERNS = {
    "id_card": re.compile(rf"(?<![\d])(?:\d{_SEP}){{17}}[\dx](?![\d])"),
    "bank_card": re.compile(rf"(?<![\d])[3-6](?:{_SEP}\d){{15,18}}(?![\d])"),
    "mobile": re.compile(rf"(?<![\d])1{_SEP}[3-9](?:{_SEP}\d){{9}}(?![\d])"),
}
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10x98765432"


@dataclass(frozen=True)
class PiiMatch:
    """A personal number found in a text.

    Attributes:
        start: Start offset in the text given to :func:`find_pii`.
        end: End offset (exclusive).
        kind: ``mobile``, ``id_card`` or ``bank_card``.
        value: The digits, separators removed.
        valid: Whether the checksum held (always True for mobiles, which have none).
    """

    start: int
    end: int
    kind: str
    value: str
    valid: bool


def id_card_valid(value: str) -> bool:
    """GB 11643-1999 check digit of an 18-character resident ID number."""
    if not re.fullmatch(r"\d{17}[\dxX]", value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    month, day = int(value[10:12]), int(value[12:14])
    return 1 <= month <= 12 and 1 <= day <= 31 and _ID_CHECK[total % 11] == value[17].lower()


def luhn_valid(value: str) -> bool:
    """The Luhn check of a card number."""
    if not value.isdigit():
        return False
    total = 0
    for i, d in enumerate(reversed(value)):
        n = int(d)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


_VALIDATORS = {"id_card": id_card_valid, "bank_card": luhn_valid, "mobile": lambda v: True}


def find_pii_normalized(norm: NormText) -> list[PiiMatch]:
    """Personal numbers in already-normalized text; spans are in the *normalized* text."""
    found: list[PiiMatch] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS.items():  # ID before card before mobile: longest claims first
        for m in pattern.finditer(norm.text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            value = re.sub(r"[ \-,]", "", m.group())
            if not _VALIDATORS[kind](value):
                continue
            taken.append((m.start(), m.end()))
            found.append(PiiMatch(m.start(), m.end(), kind, value, True))
    return sorted(found, key=lambda p: p.start)


def find_pii(text: str) -> list[PiiMatch]:
    """Personal numbers in ``text``, with spans into ``text`` as given.

    >>> [(p.kind, p.value) for p in find_pii("我手机是幺三八零零一三八零零零")]
    [('mobile', '13800138000')]
    """
    norm = normalize(text)
    out = []
    for p in find_pii_normalized(norm):
        start, end = norm.span(p.start, p.end)
        out.append(PiiMatch(start, end, p.kind, p.value, p.valid))
    return out
