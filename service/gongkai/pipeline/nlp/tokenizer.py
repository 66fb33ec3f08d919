"""A character tokenizer for the narrative classifier that needs neither torch nor transformers.

Chinese BERT models read one token per Han character; ours does too, with a vocabulary built from
the project's corpus (``vocab.txt``, one token per line, BERT layout: the line number is the id).
Digits are folded to ``0`` because the amount never decides a label, and context tags such as
``[SEC_PI]`` are single tokens.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from gongkai.pipeline.nlp.text import CONTEXT_TAGS

SPECIAL_TOKENS: tuple[str, ...] = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
PAD, UNK, CLS, SEP, MASK = range(5)


def char_units(text: str) -> list[str]:
    """The characters the model reads: NFKC-folded, lower-cased, digits as 0, no whitespace."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return ["0" if ch.isdigit() else ch for ch in folded if not ch.isspace()]


class CharTokenizer:
    def __init__(self, tokens: Sequence[str]) -> None:
        if tuple(tokens[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise ValueError("vocabulary must start with [PAD] [UNK] [CLS] [SEP] [MASK]")
        self.tokens = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}
        missing = [t for t in CONTEXT_TAGS if t not in self.index]
        if missing:
            raise ValueError(f"vocabulary lacks the context tags {missing}")

    @classmethod
    def build(cls, texts: Iterable[str], min_count: int = 1) -> CharTokenizer:
        counts: dict[str, int] = {}
        for text in texts:
            for ch in char_units(text):
                counts[ch] = counts.get(ch, 0) + 1
        chars = sorted(ch for ch, n in counts.items() if n >= min_count)
        return cls([*SPECIAL_TOKENS, *CONTEXT_TAGS, *chars])

    @classmethod
    def load(cls, path: str | Path) -> CharTokenizer:
        lines = Path(path).read_text(encoding="utf-8").split("\n")
        return cls([t for t in lines if t != ""])

    def save(self, path: str | Path) -> None:
        Path(path).write_text("\n".join(self.tokens) + "\n", encoding="utf-8")

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tags: Sequence[str], text: str, max_len: int) -> list[int]:
        head = [CLS, *(self.index[t] for t in tags)]
        room = max(0, max_len - len(head) - 1)
        body = [self.index.get(ch, UNK) for ch in char_units(text)][:room]
        return [*head, *body, SEP]

    def batch(
        self, items: Sequence[tuple[Sequence[str], str]], max_len: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """input_ids and attention_mask (int64), padded to the longest item."""
        encoded = [self.encode(tags, text, max_len) for tags, text in items]
        width = max((len(e) for e in encoded), default=2)
        ids = np.full((len(encoded), width), PAD, dtype=np.int64)
        mask = np.zeros((len(encoded), width), dtype=np.int64)
        for row, e in enumerate(encoded):
            ids[row, : len(e)] = e
            mask[row, : len(e)] = 1
        return ids, mask
