"""The pipeline finds quantities without spaCy and segments with a sharded jieba dictionary; both
must answer exactly as before (the spaCy EntityRuler over jieba, jieba's own dictionary load)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("jieba", reason="the nlp extra (jieba) is not installed")

from gongkai.pipeline.nlp import segment
from gongkai.pipeline.nlp.text import normalize, split_sentences

REPO = Path(__file__).resolve().parents[3]
ODD = [
    "共受理申请 21 件，其中 3  件结转，发布 3585条 信息",
    "收费1.5万元 ， 培训 160人次 ；行政复议2 起\t行政诉讼 0\u3000起",
    "2023年第711号 文件 12 个 3.5 万元 7.  件 .5件 3件件 10条条",
    "  前导空格 5件 尾随空格 6件  ",
    "１２件 全角数字３条 ，一二三件",
    "abc 12件 def 3.14 元 x1件 12a件",
]


def _sentences() -> list[str]:
    texts = list(ODD)
    for path in sorted((REPO / "corpora" / "narrative").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]
    out = []
    for text in texts:
        for s in split_sentences(text) or [text]:
            folded = normalize(s)
            # As facts.py gives them: NFKC, whitespace next to CJK removed; and as printed.
            out += [s, folded, re.sub(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])", "", folded)]
    return out


def test_quantities_match_the_spacy_entity_ruler() -> None:
    pytest.importorskip("spacy", reason="the reference needs spaCy")
    sentences = _sentences()
    assert len(sentences) > 1000
    found = 0
    for s in sentences:
        mine = segment.quantities(s)
        assert mine == segment.quantities_spacy(s), s
        found += len(mine)
    assert found > 100


def test_the_sharded_dictionary_segments_as_jieba_does(tmp_path: Path) -> None:
    import jieba

    segment._jieba()
    # A tokenizer that loads jieba's own dictionary the usual way, with the same user dictionary.
    plain = jieba.Tokenizer()
    plain.tmp_dir = str(tmp_path)
    plain.initialize()
    plain.load_userdict(str(segment.USER_DICT))
    for s in _sentences()[::3]:
        assert segment.words(s) == [w for w in plain.lcut(s, cut_all=False) if w.strip()], s


def test_shards_round_trip(tmp_path: Path) -> None:
    """Written from a dictionary, read back lazily: every look-up answers as the dictionary does,
    and a word added later (the user dictionary) overrides its shard's entry."""
    import jieba

    dt = jieba.Tokenizer()
    dt.tmp_dir = str(tmp_path)
    dt.FREQ, dt.total = {"政": 5, "政务": 3, "政务公": 0, "政务公开": 7, "公": 2, "公开": 9}, 26
    dt.initialized = True
    segment._write_shards(dt)
    fresh = jieba.Tokenizer()
    fresh.tmp_dir = str(tmp_path)
    assert segment._load_sharded(fresh)
    assert isinstance(fresh.FREQ, segment._ShardedFreq) and fresh.total == 26
    for key, value in dt.FREQ.items():
        assert key in fresh.FREQ and fresh.FREQ[key] == value and fresh.FREQ.get(key) == value
    assert "开" not in fresh.FREQ and fresh.FREQ.get("开") is None and fresh.FREQ.get("开", 1) == 1
    fresh.FREQ["政务"] = 11
    assert fresh.FREQ["政务"] == 11


def test_a_truncated_shard_file_is_not_used(tmp_path: Path) -> None:
    import jieba

    dt = jieba.Tokenizer()
    dt.tmp_dir = str(tmp_path)
    dt.FREQ, dt.total = {"政": 5, "政务": 3, "公": 2, "公开": 9}, 19
    dt.initialized = True
    segment._write_shards(dt)
    path = segment._shards_file(dt)
    assert path is not None and path.is_file()
    path.write_bytes(path.read_bytes()[:-3])
    fresh = jieba.Tokenizer()
    fresh.tmp_dir = str(tmp_path)
    assert not segment._load_sharded(fresh) and not fresh.initialized
