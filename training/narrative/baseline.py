"""The baseline: jieba words + TF-IDF + logistic regression (scikit-learn), saved as plain JSON.

The service evaluates the JSON with numpy (gongkai.pipeline.nlp.classifier.BaselineSentenceClassifier), so
neither pickle nor scikit-learn is needed at run time.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from gongkai.pipeline.nlp.classifier import baseline_features
from gongkai.pipeline.nlp.segment import words
from gongkai.pipeline.nlp.text import LABELS, SentenceContext


def train_baseline(train: list[tuple[SentenceContext, str]], out_dir: Path, c: float = 10.0) -> Path:
    docs = [baseline_features(ctx.tags(), words(ctx.text)) for ctx, _ in train]
    vec = TfidfVectorizer(analyzer=lambda feats: feats, sublinear_tf=True, norm="l2", min_df=1)
    x = vec.fit_transform(docs)
    y = np.array([LABELS.index(lab) for _, lab in train])
    clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    clf.fit(x, y)
    # Columns of coef_ follow clf.classes_; expand to all LABELS (a label absent from train gets -inf-ish).
    coef = np.full((len(LABELS), x.shape[1]), 0.0)
    intercept = np.full(len(LABELS), -30.0)
    for row, cls in enumerate(clf.classes_):
        coef[cls] = clf.coef_[row] if len(clf.classes_) > 2 else (clf.coef_[0] if row == 1 else -clf.coef_[0])
        intercept[cls] = clf.intercept_[row] if len(clf.classes_) > 2 else 0.0
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "name": "baseline-tfidf-lr",
        "labels": list(LABELS),
        "vocabulary": {k: int(v) for k, v in vec.vocabulary_.items()},
        "idf": [round(float(v), 6) for v in vec.idf_],
        "coef": [[round(float(v), 6) for v in row] for row in coef],
        "intercept": [round(float(v), 6) for v in intercept],
    }
    (out_dir / "baseline.json").write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
    return out_dir
