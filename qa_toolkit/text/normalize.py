"""Text normalization that remembers where every character came from.

``normalize(text)`` returns a :class:`NormText`: traditional characters folded to simplified
(OpenCC ``t2s``), full-width forms to half-width, clause punctuation to ASCII, ASCII lowercased,
spoken Chinese numbers to digits (``幺三八…`` -> ``138…``, ``八千`` -> ``8000``), hesitation
fillers inside a phrase (我们嗯上门) and stray spaces between Chinese characters removed; a filler
that stands alone (嗯。 as a yes) is kept. ``NormText.span`` maps a span of
the normalized text back to the original, so highlights line up with what the reviewer sees.

Everything length-preserving runs through ``str.translate`` and OpenCC (C speed); the rare
edits that change length are found with one regex and only then is an offset map built.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# --- length-preserving character mapping -------------------------------------------------

_CLAUSE_PUNCT = {
    "，": ",", "、": ",", "；": ";", "：": ":", "。": ".", "！": "!", "？": "?",
    "…": ".", "—": "-", "～": "~", "“": '"', "”": '"', "‘": "'", "’": "'",
    "（": "(", "）": ")", "【": "[", "】": "]", "《": '"', "》": '"', "「": '"', "」": '"',
    "\u3000": " ", "\t": " ", "\n": " ", "\r": " ",
}


def _translate_table() -> dict[int, str]:
    table = {0xFF01 + i: chr(0x21 + i) for i in range(0x5E)}  # full-width ASCII
    table.update({ord(k): v for k, v in _CLAUSE_PUNCT.items()})
    table.update({ord(c): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"})
    # full-width uppercase letters go straight to lowercase
    table.update({0xFF21 + i: chr(ord("a") + i) for i in range(26)})
    return table


_TABLE = _translate_table()


@functools.lru_cache(maxsize=1)
def _opencc():
    import opencc

    return opencc.OpenCC("t2s")


# OpenCC keeps 著 (also a simplified character: 著名, 显著), but Whisper and Taiwanese usage
# write the aspect particle 着 as 著: 接著打, 等著瞧, 看著办.
_PARTICLE_ZHE = re.compile(r"(?<![显土卓编原名专论巨遗合昭译新拙大])著(?![名作称者述录书])")


def to_simplified(text: str) -> str:
    """Traditional -> simplified Chinese (OpenCC ``t2s``, 著 -> 着 as a particle), keeping the length when it can."""
    out = _opencc().convert(text)
    if len(out) != len(text):  # a phrase conversion changed the length: go char by char
        conv = _opencc().convert
        out = "".join(c2 if len(c2 := conv(c)) == 1 else c for c in text)
    return _PARTICLE_ZHE.sub("着", out)


# --- edits that change length -------------------------------------------------------------

DIGIT_CHARS = "零〇一二三四五六七八九幺洞"
_DIGIT_VALUE = {c: str(i) for i, c in enumerate("零一二三四五六七八九")}
_DIGIT_VALUE.update({"〇": "0", "幺": "1", "洞": "0"})
_UNIT_CHARS = "十百千万亿两"
_MEASURES = "块元万千百个天月年号次点分岁期"
_APPROX = "多余来"  # 一万四千多, 两千来块: the whole run is the number (not 一万四 + 千多)

FILLERS = "嗯呃"  # not 唔: in Cantonese it means 不
_EDIT_RE = re.compile(
    rf"(?P<digits>[{DIGIT_CHARS}]{{3,}})"  # spoken digit by digit: 幺三八零零…
    rf"|(?P<number>[{DIGIT_CHARS}{_UNIT_CHARS}]*[{_UNIT_CHARS}][{DIGIT_CHARS}{_UNIT_CHARS}]*(?=[{_MEASURES}{_APPROX}]|左右|出头|$|[^\u4e00-\u9fff]))"
    rf"|(?P<single>(?<![\u4e00-\u9fff])[{DIGIT_CHARS}](?=[块元万千百天号岁期]))"
    rf"|(?P<filler>(?<=[\u4e00-\u9fff])[{FILLERS}]+(?=[\u4e00-\u9fff]))"  # mid-phrase hesitation only
    r"|(?P<space>(?<=[\u4e00-\u9fff]) +(?=[\u4e00-\u9fff]))"
)


@functools.lru_cache(maxsize=4096)
def _number_value(run: str) -> str | None:
    """``八千`` -> ``8000``, ``一万五`` -> ``15000``; None when the run is not a number."""
    try:
        import cn2an

        value = cn2an.cn2an(run.replace("两", "二").replace("幺", "一"), "smart")
    except (ValueError, KeyError, IndexError):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _replacement(m: re.Match[str]) -> str | None:
    kind = m.lastgroup
    run = m.group()
    if kind == "digits":
        return "".join(_DIGIT_VALUE[c] for c in run)
    if kind in ("number", "single"):
        if run in ("万", "千", "百", "十", "亿", "两"):
            return None
        return _number_value(run) if kind == "number" else _DIGIT_VALUE.get(run)
    return ""  # filler or space: dropped


@dataclass(frozen=True)
class NormText:
    """Normalized text and the map back to the original.

    Attributes:
        text: The normalized text.
        original: The text as given.
        offsets: ``offsets[i]`` is the index in ``original`` of normalized character ``i``,
            with one extra entry (the original length); ``None`` when positions are identical.
    """

    text: str
    original: str
    offsets: tuple[int, ...] | None = None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalized span ``[start, end)`` to the original text."""
        if self.offsets is None:
            return start, end
        if end <= start:
            pos = self.offsets[start]
            return pos, pos
        return self.offsets[start], self.offsets[end - 1] + 1


def normalize(text: str) -> NormText:
    """Normalize ``text`` for matching; see the module docstring for the steps."""
    base = to_simplified(text.translate(_TABLE))
    edits = []
    for m in _EDIT_RE.finditer(base):
        rep = _replacement(m)
        if rep is not None and rep != m.group():
            edits.append((m.start(), m.end(), rep))
    if not edits:
        return NormText(base, text)
    out: list[str] = []
    offsets: list[int] = []
    pos = 0
    for start, end, rep in edits:
        out.append(base[pos:start])
        offsets.extend(range(pos, start))
        out.append(rep)
        n, k = end - start, len(rep)
        offsets.extend(start + (round(i * (n - 1) / (k - 1)) if k > 1 else 0) for i in range(k))
        pos = end
    out.append(base[pos:])
    offsets.extend(range(pos, len(base)))
    offsets.append(len(base))
    return NormText("".join(out), text, tuple(offsets))
