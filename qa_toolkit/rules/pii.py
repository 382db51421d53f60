"""Built-in recognizers for personal numbers, with checksums.

Mainland mobile numbers, resident ID numbers (GB 11643 check digit) and bank cards (Luhn),
written as digits, with separators, or spoken digit by digit in Chinese (幺三八…): the text is
normalized first and spans are mapped back to the original. A checksum that fails drops the
candidate (a random 18-digit string is not an ID number) unless the number still has the shape
of its kind, since ASR gets a digit of a long number wrong more often than not: an ID number
whose region code and birth date are real (a contract number like 2023… is not), a card number
right after 卡号/银行卡/账号. Those are kept with ``valid=False``. ASR also writes a spoken digit
next to other digits as a homophone now and then (186-290-431-5期 for …57): a character that
sounds like a digit, next to a digit, is read as that digit when that completes a number.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from qa_toolkit.text.normalize import NormText, normalize

_SEP = r"[ \-,]?"  # groups read out with pauses come back with commas
_PATTERNS = {
    "id_card": re.compile(rf"(?<![\d])(?:\d{_SEP}){{17}}[\dx](?![\d])"),
    "bank_card": re.compile(rf"(?<![\d])[3-6](?:{_SEP}\d){{15,18}}(?![\d])"),
    "mobile": re.compile(rf"(?<![\d])1{_SEP}[3-9](?:{_SEP}\d){{9}}(?![\d])"),
}
_DIGIT_SOUNDS = {"ling": "0", "dong": "0", "yi": "1", "yao": "1", "er": "2", "san": "3", "si": "4", "wu": "5",
                 "liu": "6", "qi": "7", "ba": "8", "jiu": "9"}
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_REGIONS = frozenset("11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
                        "61 62 63 64 65 71 81 82".split())  # GB/T 2260 province codes
_CARD_CUE = re.compile(r"(卡号|银行卡|储蓄卡|信用卡|借记卡|账号|帐号|卡)[^\d]{0,6}$")
_ID_CHECK = "10x98765432"


@dataclass(frozen=True)
class PiiMatch:
    """A personal number found in a text.

    Attributes:
        start: Start offset in the text given to :func:`find_pii`.
        end: End offset (exclusive).
        kind: ``mobile``, ``id_card`` or ``bank_card``.
        value: The digits, separators removed.
        valid: Whether the checksum held (always True for mobiles, which have none); False for
            a number kept by its shape (see the module docstring).
    """

    start: int
    end: int
    kind: str
    value: str
    valid: bool


def _id_card_form(value: str) -> bool:
    """18 characters (17 digits and a digit or X) whose birth month and day exist."""
    return bool(re.fullmatch(r"\d{17}[\dxX]", value)) and 1 <= int(value[10:12]) <= 12 and 1 <= int(value[12:14]) <= 31


def id_card_valid(value: str) -> bool:
    """GB 11643-1999 check digit of an 18-character resident ID number."""
    if not _id_card_form(value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17].lower()


def id_card_shaped(value: str) -> bool:
    """A real province code and a plausible birth date (1900–2029), whatever the check digit."""
    return _id_card_form(value) and value[:2] in _ID_REGIONS and 1900 <= int(value[6:10]) <= 2029


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


@functools.lru_cache(maxsize=1)
def _digit_sound_table() -> dict[str, str]:
    """Characters whose (first, tone-less) reading is a digit's: 期 -> 7, 就 -> 9."""
    from qa_toolkit.text.pinyin import first_readings

    return {ch: _DIGIT_SOUNDS[r] for ch, r in first_readings().items() if r in _DIGIT_SOUNDS}


def _digits_by_sound(text: str) -> tuple[str, list[int]]:
    """``text`` with digit-sounding characters next to a digit (a separator between allowed)
    read as digits (same length), and the positions changed."""
    table = _digit_sound_table()
    chars = list(text)
    changed = []
    for i, ch in enumerate(chars):
        if ch in table:
            before = chars[i - 1] if i else ""
            if before in " -," and i > 1:
                before = chars[i - 2]
            after = text[i + 1 : i + 3].lstrip(" -,")[:1]
            if before.isdigit() or after.isdigit():
                chars[i] = table[ch]
                changed.append(i)
    return "".join(chars), changed


def _shaped(kind: str, value: str, before: str) -> bool:
    """A number whose checksum failed but that is still plainly an ID or card number."""
    if kind == "id_card":
        return id_card_shaped(value)
    if kind == "bank_card":
        return bool(_CARD_CUE.search(before))
    return False


def find_pii_normalized(norm: NormText) -> list[PiiMatch]:
    """Personal numbers in already-normalized text; spans are in the *normalized* text."""
    found: list[PiiMatch] = []
    taken: list[tuple[int, int]] = []
    heard, changed = _digits_by_sound(norm.text)
    passes = [(norm.text, None), (heard, changed)] if changed else [(norm.text, None)]
    for text, needs in passes:
        for kind, pattern in _PATTERNS.items():  # ID before card before mobile: longest claims first
            for m in pattern.finditer(text):
                if any(m.start() < e and s < m.end() for s, e in taken):
                    continue
                if needs is not None and not any(m.start() <= i < m.end() for i in needs):
                    continue
                value = re.sub(r"[ \-,]", "", m.group())
                valid = _VALIDATORS[kind](value)
                if not (valid or _shaped(kind, value, text[: m.start()])):
                    continue
                taken.append((m.start(), m.end()))
                found.append(PiiMatch(m.start(), m.end(), kind, value, valid))
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
