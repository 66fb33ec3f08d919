"""Gongkai: document understanding for 政府信息公开工作年度报告 (government information disclosure
annual reports).

The package is grouped so that its structure is visible:

- ``gongkai.pipeline``: the document pipeline, one module per stage (ingest → layout → tables →
  schema mapping → checks → repair → narrative NLP → result); ``gongkai.pipeline.extract`` wires it.
- ``gongkai.server``: the HTTP API, the job queue, storage and the review workflow around it.
- ``gongkai.devtools``: the evaluation harness and the synthetic corpus generator; the runtime never
  imports them.
- ``gongkai.settings``: every setting, and the only place the environment is read.

``from gongkai import extract_path`` is the short way in; it loads the pipeline on first use only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["PipelineOptions", "__version__", "extract_bytes", "extract_document", "extract_path"]

if TYPE_CHECKING:
    from gongkai.pipeline.extract import extract_bytes, extract_document, extract_path
    from gongkai.settings import PipelineOptions


def __getattr__(name: str) -> Any:
    # Lazy, so `import gongkai` (and the CLI's start-up) does not pay for the whole pipeline.
    if name in ("extract_path", "extract_bytes", "extract_document"):
        from gongkai.pipeline import extract

        return getattr(extract, name)
    if name == "PipelineOptions":
        from gongkai.settings import PipelineOptions

        return PipelineOptions
    raise AttributeError(f"module 'gongkai' has no attribute {name!r}")
