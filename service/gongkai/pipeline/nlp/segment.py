"""Chinese segmentation: jieba with the domain dictionary, and quantities (number + unit) over its words.

``quantities`` is the spaCy ``zh`` pipeline's quantity EntityRuler (jieba as segmenter) done
directly on jieba's words: the same tokens (spaCy's whitespace alignment included), the same two
patterns, the same offsets. spaCy itself costs about a second to import (two with torch installed,
through thinc), so the pipeline no longer loads it; ``pipeline()`` still builds the spaCy version,
which tests/pipeline/nlp/test_quantity_parity.py compares with this one on the corpora. jieba is
shared, so the user dictionary applies to both.
"""

from __future__ import annotations

import logging
import marshal
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.language import Language

USER_DICT = Path(__file__).with_name("userdict.txt")
UNITS: tuple[str, ...] = ("条", "件", "次", "万元", "元", "人次", "起", "篇", "期", "场", "个")
_NUMBER = r"\d+(?:\.\d+)?"
_NUM_UNIT = re.compile(rf"^({_NUMBER})({'|'.join(sorted(UNITS, key=len, reverse=True))})$")
_lock = threading.Lock()


class NlpUnavailable(ImportError):
    """The ``nlp`` extra (jieba, spacy) or the domain dictionary is not installed."""


@lru_cache(maxsize=1)
def _jieba() -> Any:
    try:
        import jieba
    except ImportError as exc:
        raise NlpUnavailable("jieba is not installed (pip install 'gongkai[nlp]')") from exc
    if not USER_DICT.is_file():
        raise NlpUnavailable(f"the domain dictionary {USER_DICT} is missing from the installation")
    jieba.setLogLevel(logging.WARNING)
    with _lock:
        if not _load_sharded(jieba.dt):
            jieba.initialize()
            _write_shards(jieba.dt)
        jieba.load_userdict(str(USER_DICT))
    return jieba


# jieba's prefix dictionary (about 500 000 words and prefixes) takes 0.3–0.6 s of CPU to unmarshal,
# the largest part of a born-digital report's start-up, though a report uses a quarter of it. The
# same dictionary is therefore cached in shards by first character, and a shard is loaded the first
# time a word starting with its character is looked up: every look-up answers as the full
# dictionary would, so segmentation is unchanged.
_SHARDS_VERSION = 1


class _ShardedFreq(dict[str, int]):
    """jieba's ``FREQ`` (word or prefix → frequency), filled shard by shard on first use."""

    def __init__(self, blob: bytes, index: dict[str, tuple[int, int]]) -> None:
        super().__init__()
        self._blob = blob
        self._index = index
        self._loaded: set[str] = set()
        self._load_lock = threading.Lock()

    def _shard(self, key: str) -> None:
        first = key[:1]
        if first in self._loaded:
            return
        with self._load_lock:  # another thread must not see the shard marked before it is in
            if first in self._loaded:
                return
            span = self._index.get(first)
            if span is not None:
                dict.update(self, marshal.loads(self._blob[span[0] : span[0] + span[1]]))
            self._loaded.add(first)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self._shard(key)
        return dict.__contains__(self, key)

    def __getitem__(self, key: str) -> int:
        self._shard(key)
        return dict.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self._shard(key)
        return dict.get(self, key, default)

    def __setitem__(self, key: str, value: int) -> None:
        # jieba.add_word (the user dictionary) overwrites the main dictionary's entry: load it first.
        self._shard(key)
        dict.__setitem__(self, key, value)


def _shards_file(dt: Any) -> Path | None:
    """Where the shards of jieba's main dictionary are cached (beside jieba's own cache), named by
    the dictionary file's size and time so that a changed dictionary is sharded again."""
    try:
        with dt.get_dict_file() as f:
            stat = Path(f.name).stat()
    except (OSError, AttributeError):
        return None
    folder = Path(dt.tmp_dir or tempfile.gettempdir())
    return folder / f"gongkai-jieba-v{_SHARDS_VERSION}-{stat.st_size}-{int(stat.st_mtime)}.shards"


def _load_sharded(dt: Any) -> bool:
    """Install the sharded dictionary into jieba's default tokenizer; False when it is not cached
    (or jieba uses another dictionary than its default)."""
    import jieba

    if dt.initialized or dt.dictionary != jieba.DEFAULT_DICT:
        return dt.initialized  # type: ignore[no-any-return]
    path = _shards_file(dt)
    if path is None or not path.is_file():
        return False
    try:
        blob = path.read_bytes()
        head = int.from_bytes(blob[:8], "little")
        total, index = marshal.loads(blob[8 : 8 + head])
    except (OSError, ValueError, EOFError, TypeError):
        return False
    base = 8 + head
    # A truncated file (a full disk) would fail in the middle of a segmentation: check it here.
    if not isinstance(total, int) or max((s + n for s, n in index.values()), default=0) != len(blob) - base:
        return False
    dt.FREQ = _ShardedFreq(blob, {k: (base + start, n) for k, (start, n) in index.items()})
    dt.total = total
    dt.initialized = True
    return True


def _write_shards(dt: Any) -> None:
    """Cache jieba's freshly loaded main dictionary in shards (before the user dictionary joins it)."""
    path = _shards_file(dt)
    if path is None or isinstance(dt.FREQ, _ShardedFreq):
        return
    shards: dict[str, dict[str, int]] = {}
    for word, freq in dt.FREQ.items():
        shards.setdefault(word[:1], {})[word] = freq
    blobs: list[bytes] = []
    index: dict[str, tuple[int, int]] = {}
    offset = 0
    for first, entries in shards.items():
        data = marshal.dumps(entries)
        index[first] = (offset, len(data))
        blobs.append(data)
        offset += len(data)
    # File: the header's length (8 bytes), the header (total, index), then the shards; the index
    # counts offsets from the first shard.
    head = marshal.dumps((dt.total, index))
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".gongkai-jieba-")
        with os.fdopen(fd, "wb") as out:
            out.write(len(head).to_bytes(8, "little"))
            out.write(head)
            out.writelines(blobs)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only temp folder: jieba's own cache still works, only slower


def words(text: str) -> list[str]:
    """jieba's words (precise mode, domain dictionary), whitespace dropped."""
    return [w for w in _jieba().lcut(text, cut_all=False) if w.strip()]


def quantity_patterns() -> list[dict[str, Any]]:
    """EntityRuler patterns: a number token then a unit token, or one token holding both."""
    units = list(UNITS)
    return [
        {"label": "QUANTITY", "pattern": [{"TEXT": {"REGEX": rf"^{_NUMBER}$"}}, {"TEXT": {"IN": units}}]},
        {"label": "QUANTITY", "pattern": [{"TEXT": {"REGEX": _NUM_UNIT.pattern}}]},
    ]


@lru_cache(maxsize=1)
def pipeline() -> Language:
    """spaCy ``zh`` with jieba as its segmenter and the quantity EntityRuler (the reference for
    ``quantities``; the pipeline itself does not load spaCy)."""
    _jieba()  # the dictionary must be in jieba before spaCy's tokenizer first uses it
    try:
        import spacy
    except ImportError as exc:
        raise NlpUnavailable("spaCy is not installed (pip install 'gongkai[nlp]')") from exc
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(quantity_patterns())  # type: ignore[attr-defined]
    return nlp


@dataclass(frozen=True)
class Quantity:
    value: str  # the digits as printed (NFKC-folded)
    unit: str
    start: int  # character offsets in the text given to ``quantities``
    end: int


def _tokens(text: str) -> list[tuple[str, int]]:
    """jieba's words with their offsets, aligned as spaCy's ``get_words_and_spaces`` aligns them: a
    whitespace word is dropped, one space after a word is that word's trailing space, other
    whitespace (and any text jieba skipped) becomes a token of its own."""
    words = [w for w in _quantity_words(text) if w and not w.isspace()]
    out: list[tuple[str, int]] = []
    pos = 0
    for word in words:
        start = text.index(word, pos)
        if start > pos:
            out.append((text[pos:start], pos))
        out.append((word, start))
        pos = start + len(word)
        if pos < len(text) and text[pos] == " ":
            pos += 1
    if pos < len(text):
        out.append((text[pos:], pos))
    return out


def _quantity_words(text: str) -> list[str]:
    """jieba's words of ``text`` where a quantity can be: jieba cuts a sentence block by block (runs
    of CJK/ASCII word characters, and single characters between them), each block on its own. A
    quantity needs a digit, and its unit is the next word; so only a block holding a digit, or
    coming right after a digit, needs cutting. Any other block stays one word: it cannot start,
    hold or end a match, and the offsets are the text's either way."""
    jb = _jieba()
    words: list[str] = []
    digit_before = False  # a digit since the last word block: the next block may hold a unit
    for block in jb.re_han_default.split(text):
        if not block:
            continue
        has_digit = _DIGIT.search(block) is not None
        if jb.re_han_default.match(block):
            if has_digit or digit_before:
                words.extend(jb.cut(block, cut_all=False))
            else:
                words.append(block)
            digit_before = has_digit
        else:
            words.extend(jb.cut(block, cut_all=False))  # single characters and whitespace runs
            digit_before = digit_before or has_digit
    return words


_DIGIT = re.compile(r"\d")
_NUMBER_TOKEN = re.compile(rf"^{_NUMBER}$")
_UNIT_SET = frozenset(UNITS)


def quantities(text: str) -> list[Quantity]:
    """Numbers with units in ``text``: a number word followed by a unit word, or one word holding
    both (the EntityRuler patterns of ``quantity_patterns``; matched with ``re.search`` as spaCy's
    REGEX does). The two patterns cannot overlap (a word is a number, a unit or both joined), so
    every match is kept, in text order."""
    tokens = _tokens(text)
    out: list[Quantity] = []
    i = 0
    while i < len(tokens):
        word, start = tokens[i]
        if _NUMBER_TOKEN.search(word) and i + 1 < len(tokens) and tokens[i + 1][0] in _UNIT_SET:
            unit, unit_start = tokens[i + 1]
            out.append(Quantity(word, unit, start, unit_start + len(unit)))
            i += 2
            continue
        m = _NUM_UNIT.search(word)
        if m:
            out.append(Quantity(m.group(1), m.group(2), start, start + len(word)))
        i += 1
    return out


def quantities_spacy(text: str) -> list[Quantity]:
    """The same quantities found by the spaCy EntityRuler (the reference ``quantities`` matches)."""
    doc = pipeline()(text)
    out: list[Quantity] = []
    for ent in doc.ents:
        if ent.label_ != "QUANTITY":
            continue
        joined = "".join(t.text for t in ent if not t.is_space)
        m = _NUM_UNIT.match(joined)
        if m:
            out.append(Quantity(m.group(1), m.group(2), ent.start_char, ent.end_char))
    return out
