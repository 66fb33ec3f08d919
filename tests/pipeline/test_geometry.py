"""Geometry helpers shared by the PDF backend and the table stage."""

from __future__ import annotations

import pytest

from gongkai.pipeline.geometry import SNAP, snap_positions


def test_nothing_to_snap() -> None:
    assert snap_positions([]) == []


def test_close_positions_become_one_line_at_their_mean() -> None:
    assert snap_positions([72.0, 73.0, 74.5, 200.0]) == pytest.approx([73.1666667, 200.0])


def test_input_order_does_not_matter() -> None:
    assert snap_positions(x for x in (300.0, 72.0, 150.0, 71.0)) == [71.5, 150.0, 300.0]


def test_default_tolerance_is_snap() -> None:
    assert snap_positions([100.0, 100.0 + SNAP]) == [100.0 + SNAP / 2]
    assert snap_positions([100.0, 100.0 + SNAP + 0.01]) == [100.0, 100.0 + SNAP + 0.01]


def test_clusters_chain_through_close_neighbours() -> None:
    # Each value is within the tolerance of the previous one, so all are one line, although the
    # ends are 4 points apart: a ruling drawn in short slightly offset segments.
    assert snap_positions([10.0, 12.0, 14.0]) == [12.0]


def test_custom_tolerance() -> None:
    values = [72.0, 75.9, 80.0]
    assert snap_positions(values, tol=4.0) == pytest.approx([73.95, 80.0])
    assert snap_positions(values, tol=1.0) == values
    assert snap_positions(values, tol=10.0) == pytest.approx([sum(values) / 3])
