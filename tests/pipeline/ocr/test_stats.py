"""The histogram percentile gives np.percentile's value bit for bit on image-like integer arrays."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gongkai.pipeline.ocr.stats import percentile

QS = st.floats(min_value=0, max_value=100, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(hnp.arrays(np.uint8, hnp.array_shapes(min_dims=1, max_dims=2, max_side=40)), QS)
def test_uint8_percentile_is_numpys(image: np.ndarray, q: float) -> None:
    assert percentile(image, q) == float(np.percentile(image, q))


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.int16, st.integers(1, 500), elements=st.integers(0, 255)), QS)
def test_int16_channel_percentile_is_numpys(channel: np.ndarray, q: float) -> None:
    assert percentile(channel, q) == float(np.percentile(channel, q))


def test_a_whole_page_and_arrays_it_does_not_count() -> None:
    rng = np.random.default_rng(15)
    page = rng.integers(0, 256, (2339, 1654), dtype=np.uint8)  # A4 at 200 dpi
    for q in (5, 50, 90, 95, 98, 99.5):
        assert percentile(page, q) == float(np.percentile(page, q))
    negative = np.array([-3, 5, 7], np.int16)
    floats = np.array([0.25, 0.5, 4.0])
    assert percentile(negative, 50) == 5.0 and percentile(floats, 90) == float(np.percentile(floats, 90))
