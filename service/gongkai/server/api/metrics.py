"""Prometheus metrics: HTTP traffic from this process, job and document counts from the database."""

from __future__ import annotations

import time
from collections.abc import Iterator, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from gongkai.server.storage import repository as repo
from gongkai.server.storage.db import Database

# Where files are uploaded: a body refused there is an upload refused.
UPLOAD_ROUTES = frozenset({("POST", "/v1/documents")})


class _QueueCollector(Collector):
    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        jobs = GaugeMetricFamily("gongkai_jobs", "Jobs by status", labels=["status"])
        docs = GaugeMetricFamily("gongkai_documents", "Documents by status", labels=["status"])
        try:
            with self.db.session() as s:
                job_counts, doc_counts = repo.job_counts(s), repo.document_counts(s)
        except Exception:  # a scrape must not fail because the database is briefly away
            job_counts, doc_counts = {}, {}
        for status in ("queued", "running", "done", "failed"):
            jobs.add_metric([status], job_counts.get(status, 0))
        for status in ("queued", "processing", "done", "failed"):
            docs.add_metric([status], doc_counts.get(status, 0))
        yield jobs
        yield docs


class Metrics:
    def __init__(self, db: Database) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gongkai_http_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gongkai_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.uploads = Counter("gongkai_uploads", "Uploads by outcome", ["outcome"], registry=self.registry)
        self.corrections = Counter(
            "gongkai_corrections", "Corrections by target", ["target"], registry=self.registry
        )
        self.registry.register(_QueueCollector(db))

    def body_refused(self, scope: MutableMapping[str, Any]) -> None:
        """A request body refused as too large before the route could count it (BodyLimit)."""
        route = route_template(scope)
        path = route if route != "unmatched" else str(scope.get("path", ""))
        if (str(scope.get("method", "")), path) in UPLOAD_ROUTES:
            self.uploads.labels("too_large").inc()

    def observe(self, method: str, route: str, status: int, started: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(time.perf_counter() - started)


def route_template(scope: MutableMapping[str, Any]) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"  # never the raw path: it would explode label counts
