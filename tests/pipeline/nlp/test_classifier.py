"""The committed narrative classifiers: they load, predict, and still score what the model card claims."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from gongkai.pipeline.nlp.classifier import (
    MODELS_DIR,
    BaselineSentenceClassifier,
    ModelLoadError,
    OnnxSentenceClassifier,
    default_choice,
    default_classifier,
    load_classifier,
    load_error,
)
from gongkai.pipeline.nlp.labeling import label_section
from gongkai.pipeline.nlp.text import LABELS, section_contexts
from gongkai.pipeline.nlp.tokenizer import CharTokenizer

pytest.importorskip("onnxruntime", reason="the nlp extra (onnxruntime) is not installed")
pytest.importorskip("jieba", reason="the nlp extra (jieba) is not installed")


def test_artifacts_are_small_and_complete() -> None:
    total = sum(f.stat().st_size for f in MODELS_DIR.rglob("*") if f.is_file())
    assert total <= 30 * 1024 * 1024
    for name in ("model.onnx", "vocab.txt", "config.json", "MODEL_CARD.md"):
        assert (MODELS_DIR / "narrative-classifier" / name).is_file()
    assert (MODELS_DIR / "baseline" / "baseline.json").is_file()
    assert default_choice().directory.is_dir()


def test_no_torch_is_needed_to_predict() -> None:
    clf = OnnxSentenceClassifier(MODELS_DIR / "narrative-classifier")
    ctx = section_contexts(
        [["2023年工作取得一定成效，但仍存在公开意识不强等不足。", "下一步，我们将加强培训，完善制度。"]],
        "problems_improvements",
    )[0]
    probs = clf.predict_proba(ctx)
    assert probs.shape == (2, len(LABELS))
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    assert "torch" not in sys.modules or "training" in " ".join(sys.modules)


@pytest.mark.parametrize("name", ["narrative-classifier", "baseline"])
def test_section_five_only_gets_problems_or_improvements(name: str) -> None:
    clf = load_classifier(MODELS_DIR / name)
    (out,) = label_section("problems_improvements", [_MIXED], clf)
    assert {s.label for s in out.sentences} <= {"problems", "improvements"}
    assert out.label in ("problems", "improvements") and 0 < out.confidence <= 1
    assert [s.text for s in out.sentences] == _MIXED


def test_default_model_splits_a_mixed_paragraph() -> None:
    clf = load_classifier(default_choice().directory)
    (out,) = label_section("problems_improvements", [_MIXED], clf)
    assert [s.label for s in out.sentences] == ["problems", "improvements", "improvements", "improvements"]
    assert out.label == "improvements"


_MIXED = [
    "政务公开工作仍存在一些差距，信息更新不够及时。",
    "针对上述问题，我们将：",
    "一是建立更新台账；",
    "二是加强督查。",
]


def test_baseline_numpy_inference_matches_scikit_learn() -> None:
    pytest.importorskip("sklearn", reason="scikit-learn (training extra) is not installed")
    from training.narrative.baseline import train_baseline
    from training.narrative.data import load_rows, training_instances

    rows = [r for r in load_rows() if r.split == "train"][:20]
    inst = training_instances(rows, mixed_copies=0)
    import tempfile
    from pathlib import Path

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from gongkai.pipeline.nlp.classifier import baseline_features
    from gongkai.pipeline.nlp.segment import words

    with tempfile.TemporaryDirectory() as tmp:
        clf = BaselineSentenceClassifier(train_baseline(inst, Path(tmp)))
        docs = [baseline_features(c.tags(), words(c.text)) for c, _ in inst]
        vec = TfidfVectorizer(analyzer=lambda f: f, sublinear_tf=True)
        x = vec.fit_transform(docs)
        sk = LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced").fit(
            x, [LABELS.index(lab) for _, lab in inst]
        )
        ours = clf.predict_proba([c for c, _ in inst])
        theirs = sk.predict_proba(x)
        assert np.allclose(ours[:, sk.classes_], theirs, atol=1e-4)


def test_bad_model_directories_are_clear_errors(tmp_path: object) -> None:
    from pathlib import Path

    empty = Path(str(tmp_path))
    with pytest.raises(ModelLoadError, match="holds no narrative classifier"):
        load_classifier(empty)
    (empty / "config.json").write_text("{}")
    with pytest.raises(ModelLoadError, match=r"vocab\.txt"):
        OnnxSentenceClassifier(empty)
    with pytest.raises(ValueError, match="must start with"):
        CharTokenizer(["a", "b"])


def test_committed_models_score_what_the_card_claims() -> None:
    """Re-measure on the held-out splits; the claims in narrative-metrics.json must still hold."""
    from training.narrative.data import load_rows
    from training.narrative.evaluate import evaluate

    claims = json.loads((MODELS_DIR / "narrative-metrics.json").read_text(encoding="utf-8"))
    rows = load_rows()
    for claim in claims:
        if claim["model"] == "cue-rules" or claim["split"] == "dev":
            continue
        clf = load_classifier(MODELS_DIR / claim["model"])
        m = evaluate([r for r in rows if r.split == claim["split"]], clf, claim["mode"])
        for key in ("paragraph_macro_f1", "sentence_macro_f1"):
            assert m[key] >= claim[key] - 1e-6, (claim["model"], claim["split"], claim["mode"], key)


def test_the_models_folder_is_an_option(tmp_path: Path) -> None:
    # PipelineOptions.models_dir: a folder with its own pointer file picks its own default.
    other = tmp_path / "models"
    other.mkdir()
    (other / "narrative-default.json").write_text(
        json.dumps({"default": str(MODELS_DIR / "narrative-classifier")}), encoding="utf-8"
    )
    assert default_choice(other).directory == MODELS_DIR / "narrative-classifier"
    clf = default_classifier(other)
    assert isinstance(clf, OnnxSentenceClassifier) and load_error(other) is None
    assert default_classifier(other) is clf  # loaded once per folder
    # A folder without a classifier: the cue rules stand in, and the reason is kept for that folder only.
    missing = tmp_path / "nowhere"
    assert default_classifier(missing) is None
    assert "narrative-default.json" in (load_error(missing) or "")
    assert default_classifier() is not None and load_error() is None
