"""Tone-less pinyin at C speed, for sound-alike matching of ASR homophones (做牢 for 坐牢).

Every character becomes a fixed-width cell of :data:`CELL` characters (its first reading, padded
with ``_``; non-Chinese characters become a cell of ``#``), so a match at pinyin offset ``p``
starts at character ``p // CELL``. The text side uses ``str.translate`` over a precomputed
table; the term side expands every reading of heteronyms (还 -> hai, huan), so a term matches
whichever way the transcript's characters are usually read.
"""

from __future__ import annotations

import functools
import itertools
import unicodedata

CELL = 7  # the longest tone-less syllable is 6 letters (zhuang, chuang, shuang)
_PAD = "_"
_OTHER = "#" * CELL


def _toneless(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.replace("ü", "v").lower()


@functools.lru_cache(maxsize=1)
def _readings() -> dict[int, tuple[str, ...]]:
    from pypinyin.pinyin_dict import pinyin_dict

    table: dict[int, tuple[str, ...]] = {}
    for code, value in pinyin_dict.items():
        seen: list[str] = []
        for reading in value.split(","):
            syl = _toneless(reading)
            if syl and syl not in seen and len(syl) < CELL:
                seen.append(syl)
        if seen:
            table[code] = tuple(seen)
    return table


class _Table(dict):
    def __missing__(self, code: int) -> str:
        return _OTHER


@functools.lru_cache(maxsize=1)
def _text_table() -> _Table:
    table = _Table({code: r[0].ljust(CELL, _PAD) for code, r in _readings().items()})
    for code in range(128):  # ASCII is common: keep it out of __missing__
        table[code] = _OTHER
    return table


def to_cells(text: str) -> str:
    """The fixed-width pinyin of ``text``: ``len(result) == CELL * len(text)``."""
    return text.translate(_text_table())


def term_cells(term: str, limit: int = 16) -> list[str]:
    """Every reading combination of ``term`` in cell form (at most ``limit``), or [] if the
    term has a character without a reading."""
    readings = _readings()
    options = []
    for ch in term:
        r = readings.get(ord(ch))
        if not r:
            return []
        options.append([s.ljust(CELL, _PAD) for s in r])
    return ["".join(p) for p in itertools.islice(itertools.product(*options), limit)]


def plain(text: str) -> str:
    """Readable tone-less pinyin, syllables separated by spaces (for explanations)."""
    readings = _readings()
    return " ".join(readings[ord(c)][0] if ord(c) in readings else c for c in text)
