"""ASR accuracy: character error rate against a reference script, after normalization."""

from __future__ import annotations

import re


def cer_text(text: str) -> str:
    """Text as CER compares it: simplified, numbers as Chinese numerals, Chinese characters only."""
    import cn2an

    from qa_toolkit.asr.base import to_simplified

    text = to_simplified(text)
    # Digit strings read one by one (phone, ID, 尾号) vs. quantities.
    text = re.sub(r"\d{5,}|0\d+", lambda m: "".join("零一二三四五六七八九"[int(d)] for d in m.group()), text)
    try:
        text = cn2an.transform(text, "an2cn")
    except Exception:  # noqa: BLE001 - cn2an rejects some mixed strings; keep them as they are
        pass
    return re.sub(r"[^\u4e00-\u9fff]", "", text)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Edits per reference character, both sides through :func:`cer_text`."""
    ref, hyp = cer_text(reference), cer_text(hypothesis)
    return edit_distance(ref, hyp) / max(1, len(ref))
