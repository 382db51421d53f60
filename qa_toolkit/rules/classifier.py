"""A learned detector for agent turns: logistic regression on character n-grams, per category.

Patterns catch what their authors thought of; a new writer's wording ("放学那条道儿我们也挺熟的")
slips past them. This model is trained on the labelled corpus (every agent turn, with the
categories its gold labels give it) and scores a turn by the character 1–3-grams it contains,
so it reads paraphrases the patterns never saw. A lexicon rule with ``match: {classifier:
{threshold: …}}`` turns its probability into a finding of the rule's category; the context
step then applies as for any rule, and a turn some pattern already flagged for that category is
not flagged twice.

The model is plain data (``classifier.json.gz`` beside the lexicon, gzipped JSON, part of its
content hash; a plain ``.json`` file reads as well): per
category a bias and a weight per n-gram, with the n-gram's inverse document frequency folded in.
A turn's features are the idf of the n-grams it contains, L2-normalized (sublinear tf-idf
with binary counts); its probability is ``sigmoid(bias + Σ weight / norm)``. Training is
L2-regularized logistic regression with balanced class weights, by full-batch gradient descent
(Adam) in numpy; ``qa-toolkit lexicon train`` writes the file.
"""

from __future__ import annotations

import functools
import gzip
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

NGRAMS = (1, 2, 3)
MIN_DF = 2  # an n-gram seen in fewer training turns is ignored
C = 4.0  # inverse regularization strength; eleven-writer leave-one-out F1 is the same for 4 and 64 (bench/cv_classifier.py)
KEEP = 1e-3  # weights smaller than this are not written to the file


def grams(text: str) -> set[str]:
    """The character n-grams of a (normalized) text."""
    return {text[i : i + n] for n in NGRAMS for i in range(len(text) - n + 1)}


@dataclass(frozen=True)
class Classifier:
    """A trained model: ``models[category] = (bias, {n-gram: weight × idf})``."""

    idf: dict[str, float]
    models: dict[str, tuple[float, dict[str, float]]]
    meta: dict = field(default_factory=dict)

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(self.models)

    @functools.cached_property
    def _table(self) -> dict[str, tuple[float, ...]]:
        """Per n-gram: its idf², then its weight in each category (one lookup scores them all)."""
        cats = [weights for _bias, weights in self.models.values()]
        return {g: (v * v, *(w.get(g, 0.0) for w in cats)) for g, v in self.idf.items()}

    def probabilities(self, text: str) -> dict[str, float]:
        """The probability of each category for one normalized turn."""
        table = self._table
        rows = [row for g in grams(text) if (row := table.get(g)) is not None]
        sums = [sum(col) for col in zip(*rows, strict=True)] or [0.0] * (1 + len(self.models))
        norm = math.sqrt(sums[0]) or 1.0
        out = {}
        for (category, (bias, _weights)), total in zip(self.models.items(), sums[1:], strict=True):
            z = bias + total / norm
            out[category] = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
        return out

    def explain(self, text: str, category: str, k: int = 4) -> list[str]:
        """The n-grams (two characters or more) that pushed the turn most towards ``category``."""
        weights = self.models[category][1]
        ranked = sorted((g for g in grams(text) if len(g) > 1 and weights.get(g, 0.0) > 0), key=lambda g: -weights[g])
        out: list[str] = []
        for g in ranked:  # skip an n-gram inside one already listed
            if not any(g in kept for kept in out):
                out.append(g)
            if len(out) == k:
                break
        return out

    def save(self, path: str | Path) -> None:
        """Write the model as JSON, gzipped when ``path`` ends in ``.gz`` (byte-identical for the same model)."""
        data = {"meta": self.meta, "idf": self.idf,
                "models": {c: {"bias": b, "weights": w} for c, (b, w) in self.models.items()}}
        text = (json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        Path(path).write_bytes(gzip.compress(text, 9, mtime=0) if str(path).endswith(".gz") else text)

    @classmethod
    def load(cls, path: str | Path) -> Classifier:
        return cls.from_bytes(Path(path).read_bytes())

    @classmethod
    def from_bytes(cls, raw: bytes) -> Classifier:
        """A model from the bytes of its file, gzipped or not."""
        data = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
        models = {c: (float(m["bias"]), {g: float(w) for g, w in m["weights"].items()}) for c, m in data["models"].items()}
        return cls({g: float(v) for g, v in data["idf"].items()}, models, data.get("meta", {}))


def labelled_turns(transcripts: Iterable, speaker: str = "agent") -> list[tuple[str, set[str]]]:
    """``(normalized text, gold categories)`` of every ``speaker`` turn of labelled transcripts."""
    from qa_toolkit.text.normalize import normalize

    out = []
    for t in transcripts:
        gold: dict[int, set[str]] = {}
        for label in t.extra.get("labels") or []:
            if label.get("segment") is not None:
                gold.setdefault(label["segment"], set()).update(label["categories"])
        out.extend((normalize(s.text).text, gold.get(i, set())) for i, s in enumerate(t.segments) if s.speaker == speaker)
    return out


def train(samples: Iterable[tuple[str, set[str]]], categories: Iterable[str], *, c: float = C,
          iterations: int = 400, meta: dict | None = None) -> Classifier:
    """Fit one model per category on ``(normalized text, its categories)`` samples."""
    samples = list(samples)
    texts = [grams(t) for t, _ in samples]
    df: dict[str, int] = {}
    for gs in texts:
        for g in gs:
            df[g] = df.get(g, 0) + 1
    vocab = sorted(g for g, n in df.items() if n >= MIN_DF)
    index = {g: i for i, g in enumerate(vocab)}
    n = len(samples)
    idf = np.array([math.log((1 + n) / (1 + df[g])) + 1.0 for g in vocab])
    rows, cols = [], []
    for r, gs in enumerate(texts):
        for g in gs:
            if g in index:
                rows.append(r)
                cols.append(index[g])
    rows_a, cols_a = np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)
    values = idf[cols_a]
    norms = np.sqrt(np.bincount(rows_a, weights=values**2, minlength=n))
    values = values / np.where(norms > 0, norms, 1.0)[rows_a]
    models = {}
    for category in categories:
        y = np.array([category in cats for _, cats in samples], dtype=np.float64)
        if not 0 < y.sum() < n:
            raise ValueError(f"category {category!r} needs positive and negative training turns")
        w, b = _fit(rows_a, cols_a, values, y, len(vocab), n, c, iterations)
        weights = {vocab[i]: round(float(w[i] * idf[i]), 5) for i in np.flatnonzero(np.abs(w * idf) >= KEEP)}
        models[category] = (round(float(b), 5), weights)
    used = {g for _, ws in models.values() for g in ws}
    return Classifier({g: round(float(idf[index[g]]), 5) for g in sorted(used)}, models, dict(meta or {}))


def _fit(rows, cols, values, y, d, n, c, iterations) -> tuple[np.ndarray, float]:
    """L2-regularized logistic regression, balanced class weights, Adam on the full batch.

    Minimizes ``0.5·|w|² + c·Σ sᵢ·log(1 + exp(-ŷᵢ zᵢ))`` (as scikit-learn's ``C``), divided by n.
    """
    pos = y.sum()
    s = np.where(y > 0, n / (2 * pos), n / (2 * (n - pos)))
    w, b = np.zeros(d), 0.0
    m_w, v_w, m_b, v_b = np.zeros(d), np.zeros(d), 0.0, 0.0
    lr, beta1, beta2, eps = 0.05, 0.9, 0.999, 1e-8
    for t in range(1, iterations + 1):
        z = np.bincount(rows, weights=values * w[cols], minlength=n) + b
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        r = c * s * (p - y) / n
        g_w = np.bincount(cols, weights=values * r[rows], minlength=d) + w / n
        g_b = float(r.sum())
        m_w = beta1 * m_w + (1 - beta1) * g_w
        v_w = beta2 * v_w + (1 - beta2) * g_w**2
        m_b = beta1 * m_b + (1 - beta1) * g_b
        v_b = beta2 * v_b + (1 - beta2) * g_b**2
        w -= lr * (m_w / (1 - beta1**t)) / (np.sqrt(v_w / (1 - beta2**t)) + eps)
        b -= lr * (m_b / (1 - beta1**t)) / (math.sqrt(v_b / (1 - beta2**t)) + eps)
    return w, b
