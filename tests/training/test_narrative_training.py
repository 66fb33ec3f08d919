"""CI retrains a tiny classifier on a subset: the training code runs end to end (MLM → fine-tune → ONNX).

Find it with ``pytest -m slow -k tiny_training``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the training extra (torch) is not installed")
pytest.importorskip("transformers", reason="the training extra (transformers) is not installed")
pytest.importorskip("sklearn", reason="scikit-learn is not installed")
pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")


@pytest.mark.slow
def test_tiny_training_run(tmp_path: Path) -> None:
    from gongkai.pipeline.nlp.classifier import load_classifier
    from gongkai.pipeline.nlp.text import LABELS, section_contexts
    from training.narrative.__main__ import main

    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert main(["--out", str(tmp_path), "--tiny"]) == 0
    for name in ("narrative-classifier", "baseline"):
        clf = load_classifier(tmp_path / name)
        ctx = section_contexts([["下一步将加强培训。"]], "problems_improvements")[0]
        probs = clf.predict_proba(ctx)
        assert probs.shape == (1, len(LABELS))
    assert (tmp_path / "narrative-classifier" / "model.onnx").stat().st_size < 2_000_000


def test_base_model_directory_without_config_is_refused(tmp_path: Path) -> None:
    from training.narrative.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["--out", str(tmp_path / "out"), "--tiny", "--base-model", str(tmp_path / "nowhere")])
    assert exc.value.code == 2
