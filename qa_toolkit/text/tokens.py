"""jieba segmentation inside spaCy ``Doc`` objects.

Each :class:`Tokenizer` owns a private ``jieba.Tokenizer`` (so adding lexicon terms to its
dictionary never changes anyone else's segmentation) and a blank Chinese spaCy vocabulary.
Docs are built from jieba's words, so spaCy's ``Matcher`` patterns run over jieba tokens.
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Iterable

import jieba
import spacy
from spacy.tokens import Doc

jieba.setLogLevel(logging.WARNING)


@functools.lru_cache(maxsize=1)
def blank_vocab():
    """The vocabulary of a blank Chinese pipeline (``spacy.blank("zh")``), shared."""
    return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}}).vocab


class Tokenizer:
    """Segments normalized text into a spaCy ``Doc`` of jieba tokens.

    Args:
        terms: Words to add to the private jieba dictionary (lexicon terms), so they come out
            as single tokens where jieba would otherwise split them.
    """

    def __init__(self, terms: Iterable[str] = ()):
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        for term in sorted(set(terms)):
            if len(term) >= 2 and not any(ch.isspace() for ch in term):
                self._jieba.add_word(term, freq=max(self._jieba.suggest_freq(term, tune=False), 10))
        self.vocab = blank_vocab()

    def is_word(self, text: str) -> bool:
        """Whether ``text`` is a word of the dictionary (jieba's, plus the added terms)."""
        return self._jieba.FREQ.get(text, 0) > 0

    def cuts_a_word(self, text: str, start: int, end: int, longest: int = 4) -> bool:
        """Whether ``text[start:end]`` cuts through a dictionary word: a word of ``text`` that
        overlaps the span without lying inside it (合同计收: 同计 cuts 合同)."""
        for a in range(max(0, start - longest + 1), end):
            for b in range(max(a + 2, start + 1), min(len(text), a + longest) + 1):
                if not (start <= a and b <= end) and self.is_word(text[a:b]):
                    return True
        return False

    def words(self, text: str) -> list[str]:
        """jieba's words for ``text`` (HMM on, precise mode)."""
        return [w for w in self._jieba.cut(text, HMM=True) if w]

    def __call__(self, text: str) -> Doc:
        """A spaCy ``Doc`` whose tokens are jieba's words; ``doc.text == text``.

        ``doc.user_data`` keeps ``text`` and ``ends`` (each token's end offset) so callers need
        not rebuild them from the tokens.
        """
        words = self.words(text)
        doc = Doc(self.vocab, words=words, spaces=[False] * len(words))
        doc.user_data["text"] = text
        doc.user_data["ends"] = list(itertools.accumulate(map(len, words)))
        return doc
