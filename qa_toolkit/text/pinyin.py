"""Tone-less pinyin at C speed, for sound-alike matching of ASR homophones (做牢 for 坐牢).

Every character becomes a fixed-width cell of :data:`CELL` characters (its first reading, padded
with ``_``; non-Chinese characters become a cell of ``#``), so a match at pinyin offset ``p``
starts at character ``p // CELL``. The text side uses ``str.translate`` over a precomputed
table. The term side uses the term's reading in context (pypinyin's phrase data) and, for the
few characters whose two readings are both everyday ones (还 hai/huan, 行 xing/hang, ...), each
reading: so 环款 still sounds like 还款, while a rare reading (家 as jie) never makes 到你家 match
打到你接.
"""

from __future__ import annotations

import functools
import itertools
import unicodedata

CELL = 7  # the longest tone-less syllable is 6 letters (zhuang, chuang, shuang)
_PAD = "_"
_OTHER = "#" * CELL


def _toneless(syllable: str) -> str:
    """``lǜ`` -> ``lv`` (ü written v, as pypinyin's NORMAL style does), ``zhōng`` -> ``zhong``."""
    for u in "ǖǘǚǜü":
        syllable = syllable.replace(u, "v")
    decomposed = unicodedata.normalize("NFD", syllable)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


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


# Characters with two everyday readings; every other character is read as in context.
COMMON_HETERONYMS = "还行长重得了地都没给调便觉差分传朝种看只系处应乐"


def term_cells(term: str, limit: int = 16) -> list[str]:
    """The readings of ``term`` in cell form (at most ``limit``), or [] if the term has a
    character without a reading."""
    from pypinyin import Style, lazy_pinyin

    readings = _readings()
    if any(ord(ch) not in readings for ch in term):
        return []
    in_context = lazy_pinyin(term, style=Style.NORMAL)
    options = []
    for ch, ctx in zip(term, in_context, strict=True):
        r = readings[ord(ch)] if ch in COMMON_HETERONYMS else ()
        options.append(list(dict.fromkeys([ctx, *r])))
    combos = itertools.islice(itertools.product(*options), limit)
    return ["".join(s.ljust(CELL, _PAD) for s in combo) for combo in combos]


def plain(text: str) -> str:
    """Readable tone-less pinyin, syllables separated by spaces (for explanations)."""
    readings = _readings()
    return " ".join(readings[ord(c)][0] if ord(c) in readings else c for c in text)
