"""Pruning e5-small's vocabulary and positions for fine-tuning changes nothing for corpus text."""

from __future__ import annotations

from tests.training.conftest import NEEDS_E5

pytestmark = NEEDS_E5


def test_pruned_model_and_runtime_tokenizer_match_the_full_model(e5_file, encoder) -> None:
    import torch

    from gongkai.pipeline.nlp.text import LABELS, section_contexts
    from training.narrative.data import load_rows
    from training.narrative.e5_finetune import (
        PREFIX,
        TAGS,
        E5SentenceClassifierModule,
        encode_batch,
        model_input,
        prune_model,
        pruned_vocabulary,
    )

    rows = [r for r in load_rows() if r.split == "dev"][:4]
    vocab_texts = [s for r in rows for s, _ in r.sentences] + [TAGS]
    keep = pruned_vocabulary(e5_file, encoder.tokenizer, vocab_texts)
    assert 10_000 < len(keep) < 20_000  # Hanzi pieces of 1–2 characters, ASCII, digits, the texts' pieces
    tokenizer = encoder.tokenizer.runtime_tokenizer(keep=keep, max_len=128, prefix=PREFIX)
    small = prune_model(encoder.model, keep, max_len=128)
    module = E5SentenceClassifierModule(small, len(LABELS)).eval()

    contexts = [c for r in rows for c in section_contexts([[s for s, _ in r.sentences]], r.section)[0]]
    texts = [model_input(c) for c in contexts]
    ids, mask = encode_batch(tokenizer, texts)
    full_ids, full_mask = encoder.tokenizer.batch([PREFIX + t for t in texts], max_len=128)
    # the pruned tokenizer gives the same pieces, renumbered
    assert (torch.tensor([keep[i] for i in ids.flatten().tolist()]).view_as(ids) * mask).tolist() == (
        torch.from_numpy(full_ids) * torch.from_numpy(full_mask)
    ).tolist()
    with torch.inference_mode():
        positions = torch.cumsum(mask, 1) * mask + 1
        ours = small(input_ids=ids, attention_mask=mask, position_ids=positions).last_hidden_state
        full = encoder.model(
            input_ids=torch.from_numpy(full_ids), attention_mask=torch.from_numpy(full_mask)
        ).last_hidden_state
        m = mask.unsqueeze(-1).bool()
        assert torch.allclose(ours.masked_fill(~m, 0), full.masked_fill(~m, 0), atol=1e-4)
        assert module(ids, mask).shape == (len(texts), len(LABELS))
