"""Tone-less pinyin at C speed, for sound-alike matching of ASR homophones (做牢 for 坐牢).

Every tone-less syllable (``zuo``, ``lao``, ...) gets one private-use code point, and
:func:`to_codes` maps each character of a text to the code of its first reading (characters
without one map to :data:`OTHER`) with ``str.translate``: the result has the text's length, so a
match found in it has the same offsets as in the text. The term side (:func:`term_codes`) uses
the term's reading in context (pypinyin's phrase data) and, for the few characters whose two
readings are both everyday ones (还 hai/huan, 行 xing/hang, ...), each reading: so 环款 still
sounds like 还款, while a rare reading (家 as jie) never makes 到你家 match 打到你接.
"""

from __future__ import annotations

import functools
import itertools
import unicodedata

_BASE = 0xE000  # Unicode private use area: never in real text after normalization
OTHER = "\uf8ff"
# Characters with two everyday readings; every other character is read as in context.
COMMON_HETERONYMS = "还行长重得了地都没给调便觉差分传朝种看只系处应乐"


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
        seen = tuple(dict.fromkeys(s for s in map(_toneless, value.split(",")) if s.isalpha()))
        if seen:
            table[code] = seen
    return table


@functools.lru_cache(maxsize=1)
def _syllable_codes() -> dict[str, str]:
    syllables = sorted({s for readings in _readings().values() for s in readings})
    return {s: chr(_BASE + i) for i, s in enumerate(syllables)}


class _Table(dict):
    def __missing__(self, code: int) -> str:
        return OTHER


@functools.lru_cache(maxsize=1)
def _text_table() -> _Table:
    codes = _syllable_codes()
    table = _Table({code: codes[r[0]] for code, r in _readings().items()})
    for code in range(128):  # ASCII is common: keep it out of __missing__
        table[code] = OTHER
    return table


def first_readings() -> dict[str, str]:
    """Every character with a reading, and its first tone-less reading."""
    return {chr(code): r[0] for code, r in _readings().items()}


def is_chinese(text: str) -> bool:
    """Whether every character of ``text`` has a reading (a literal that can be heard)."""
    readings = _readings()
    return bool(text) and all(ord(ch) in readings for ch in text)


def to_codes(text: str) -> str:
    """One syllable code per character of ``text`` (its first reading): same length as ``text``."""
    return text.translate(_text_table())


def term_codes(term: str, limit: int = 16) -> list[str]:
    """The readings of ``term`` as syllable codes (at most ``limit``), or [] if a character of
    the term has no reading."""
    from pypinyin import Style, lazy_pinyin

    readings, codes = _readings(), _syllable_codes()
    if any(ord(ch) not in readings for ch in term):
        return []
    in_context = lazy_pinyin(term, style=Style.NORMAL)
    options = []
    for ch, ctx in zip(term, in_context, strict=True):
        extra = readings[ord(ch)][:2] if ch in COMMON_HETERONYMS else ()  # the two everyday ones: 还 is not read fu
        options.append([codes[s] for s in dict.fromkeys([ctx, *extra]) if s in codes])
    return ["".join(combo) for combo in itertools.islice(itertools.product(*options), limit)]


def plain(text: str) -> str:
    """Readable tone-less pinyin, syllables separated by spaces (for explanations)."""
    readings = _readings()
    return " ".join(readings[ord(c)][0] if ord(c) in readings else c for c in text)
