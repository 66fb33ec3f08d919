"""Geometry helpers shared by the stages (ingest backends, OCR, tables): coordinates in PDF points."""

from __future__ import annotations

from collections.abc import Iterable

# Edges closer than this (points) are one grid line.
SNAP = 2.5


def snap_positions(values: Iterable[float], tol: float = SNAP) -> list[float]:
    """Cluster nearby coordinates into grid lines (the mean of each cluster).

    Values are chained: each joins the cluster when it lies within ``tol`` of the cluster's last
    (largest) value, so a run of close values forms one line even if its ends are farther apart.
    """
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(c) / len(c) for c in out]
