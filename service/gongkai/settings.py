"""Every setting Gongkai reads, and the only module that reads the environment.

- ``PipelineOptions``: how one document is read (OCR engines, workers, threads, models, limits).
  Built once, from ``GONGKAI_*`` variables and CLI flags, and passed down to ``extract_document``;
  no stage reads the environment itself.
- ``Settings``: the service around the pipeline (database, broker, job pool, upload limits).
- ``shared_dir()``: where ``../shared`` (the real corpus) is, for the developer tools.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gongkai.errors import GongkaiError

PoolKind = Literal["process", "thread"]
OcrEngineName = Literal["ppocr-v6-int8", "ppocr-v6", "ppocr-v4"]
SecondEngineChoice = Literal["auto", "off", "ppocr-v6-int8", "ppocr-v6", "ppocr-v4"]

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
# The checkout's models/ folder: where ``PipelineOptions.models_dir`` points when it is not set.
CHECKOUT_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
ENV_PREFIX = "GONGKAI_"


class SettingsError(GongkaiError, ValueError):
    """A setting (an environment variable or a flag) has a value that cannot be used."""

    code = "bad_setting"


class PipelineOptions(BaseSettings):
    """How the pipeline reads a document. ``PipelineOptions()`` reads ``GONGKAI_<FIELD>`` variables
    (``GONGKAI_OCR_ENGINE=ppocr-v4``); ``PipelineOptions(ocr_threads=1)`` or ``.model_copy(update=…)``
    overrides them. Immutable, picklable: it travels to OCR and evaluation worker processes as is.
    An invalid value raises ``SettingsError`` naming the variable."""

    # An empty variable means "not set", as it did before the options were gathered here.
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="ignore", env_ignore_empty=True
    )

    ocr: bool = Field(True, description="run OCR on pages without a usable text layer (GONGKAI_OCR=0: never)")
    # Chosen by measurement (docs/ocr.md): PP-OCRv6 small reads the table digits far better.
    ocr_engine: OcrEngineName = Field("ppocr-v6", description="the PP-OCR engine that reads pages")
    ocr_second_engine: SecondEngineChoice = Field(
        "auto", description="the engine that re-reads doubted numeric cells; auto = the other one, off = none"
    )
    ocr_workers: int | None = Field(
        None,
        ge=1,
        description="pages of a document read at once (default: one per core, at most a page each)",
    )
    ocr_threads: int | None = Field(
        None, ge=1, description="ONNX Runtime threads when one process reads a document (default: every core)"
    )
    ocr_pool: Literal["threads", "processes"] = Field(
        "threads",
        description="how ocr_workers read a document's pages: threads of this process sharing one set "
        "of models (no start-up, one copy in memory), or worker processes",
    )
    layout_model: bool = Field(True, description="run the CDLA layout model on OCR pages")
    models_dir: Path | None = Field(
        None, description="the shipped models: narrative classifier, int8 OCR recogniser (default: models/)"
    )
    max_bytes: int = Field(DEFAULT_MAX_BYTES, ge=1, description="the largest input file accepted")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(_explain(exc)) from exc

    @classmethod
    def from_env(cls, **flags: Any) -> PipelineOptions:
        """The environment's options with the given flags on top; a flag that is None was not given."""
        return cls(**{name: value for name, value in flags.items() if value is not None})

    @field_validator("ocr_second_engine", mode="before")
    @classmethod
    def _none_means_off(cls, value: object) -> object:
        # GONGKAI_OCR_SECOND_ENGINE=none is the spelling the OCR docs have always used.
        return "off" if isinstance(value, str) and value.strip().lower() == "none" else value

    def cores(self) -> int:
        return os.cpu_count() or 1

    def threads_per_document(self) -> int:
        return self.ocr_threads or self.cores()

    def workers_for(self, n_pages: int) -> int:
        return max(1, min(self.ocr_workers or self.cores(), n_pages))

    def sharing_cores(self, documents: int) -> PipelineOptions:
        """The options for one of ``documents`` read at the same time on this machine: one OCR
        process with one ONNX Runtime thread each, unless ocr_workers / ocr_threads were set. Each
        document starting a page pool of one process (or thread) per core would put
        documents × cores busy workers on the cores, and they would only slow each other down."""
        if documents <= 1:
            return self
        update = {name: 1 for name in ("ocr_workers", "ocr_threads") if getattr(self, name) is None}
        return self.model_copy(update=update)


def _explain(exc: ValidationError) -> str:
    """One line per bad value, naming the variable that sets it."""
    parts = []
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "?"
        parts.append(f"{name} ({ENV_PREFIX}{name.upper()}) = {err.get('input')!r}: {err['msg']}")
    return "invalid pipeline option " + "; ".join(parts)


def chromium_override() -> str | None:
    """``$GONGKAI_CHROMIUM``: the Chromium the review workspace's browser tests and screenshots drive."""
    return os.environ.get("GONGKAI_CHROMIUM") or None


def shared_dir() -> Path:
    """``$GONGKAI_SHARED_DIR``, else ``../shared`` beside the checkout (it may not exist)."""
    env = os.environ.get("GONGKAI_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, not {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    # Storage: a SQLite file under ./var/ by default, PostgreSQL (or any SQLAlchemy URL) by env.
    database_url: str = "sqlite:///var/gongkai.db"
    data_dir: Path = Path("var/data")
    # Scale-out: a Redis URL sends jobs to Celery workers; None keeps the local pool.
    broker_url: str | None = None
    # Local pool inside `gongkai serve`; 0 disables it (jobs wait for another worker).
    workers: int = 2
    pool: PoolKind = "process"
    # A running job's lease; a worker that dies stops renewing it and the job runs again.
    lease_seconds: int = 120
    poll_seconds: float = 1.0
    max_attempts: int = 3
    # A local worker process that has grown past recycle_rss_mb (it loaded the OCR models, read
    # scans) and then sat idle this long exits and is replaced by a fresh one: an idle service gives
    # the models' and pages' memory back. 0 keeps workers forever.
    recycle_idle_seconds: float = 120.0
    recycle_rss_mb: int = 256
    # Limits on uploads.
    max_upload_bytes: int = 50 * 1024 * 1024
    max_pages: int = 300
    max_uncompressed_bytes: int = 200 * 1024 * 1024  # DOCX parts, summed
    max_compression_ratio: int = 200  # per DOCX part over 1 MiB uncompressed
    max_image_pixels: int = 80_000_000  # an A3 page at 600 dpi is ~70 MP
    page_render_dpi: int = 110
    # At start-up, spool files and stored objects with no database row are deleted once this old.
    orphan_grace_seconds: int = 3600
    auto_migrate: bool = True
    # The review workspace: how long a browser session lasts, and whether its cookie is Secure-only
    # (set GONGKAI_SECURE_COOKIES=1 behind HTTPS; plain http on localhost needs it off).
    session_hours: int = 8
    secure_cookies: bool = False
    # How each job reads its document; extract_bytes gets it with max_bytes = max_upload_bytes.
    pipeline: PipelineOptions = field(default_factory=PipelineOptions)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        base = cls()
        pool = os.environ.get("GONGKAI_POOL", base.pool)
        if pool not in ("process", "thread"):
            raise ValueError(f"GONGKAI_POOL must be 'process' or 'thread', not {pool!r}")
        settings = cls(
            database_url=os.environ.get("GONGKAI_DATABASE_URL") or base.database_url,
            data_dir=Path(os.environ.get("GONGKAI_DATA_DIR") or base.data_dir),
            broker_url=os.environ.get("GONGKAI_BROKER_URL") or None,
            workers=_env_int("GONGKAI_WORKERS", base.workers),
            pool=pool,  # type: ignore[arg-type]
            lease_seconds=_env_int("GONGKAI_LEASE_SECONDS", base.lease_seconds),
            max_attempts=_env_int("GONGKAI_MAX_ATTEMPTS", base.max_attempts),
            recycle_idle_seconds=_env_int("GONGKAI_RECYCLE_IDLE_SECONDS", int(base.recycle_idle_seconds)),
            recycle_rss_mb=_env_int("GONGKAI_RECYCLE_RSS_MB", base.recycle_rss_mb),
            max_upload_bytes=_env_int("GONGKAI_MAX_UPLOAD_BYTES", base.max_upload_bytes),
            max_pages=_env_int("GONGKAI_MAX_PAGES", base.max_pages),
            max_uncompressed_bytes=_env_int("GONGKAI_MAX_UNCOMPRESSED_BYTES", base.max_uncompressed_bytes),
            max_image_pixels=_env_int("GONGKAI_MAX_IMAGE_PIXELS", base.max_image_pixels),
            orphan_grace_seconds=_env_int("GONGKAI_ORPHAN_GRACE_SECONDS", base.orphan_grace_seconds),
            auto_migrate=_env_bool("GONGKAI_AUTO_MIGRATE", base.auto_migrate),
            session_hours=_env_int("GONGKAI_SESSION_HOURS", base.session_hours),
            secure_cookies=_env_bool("GONGKAI_SECURE_COOKIES", base.secure_cookies),
            pipeline=PipelineOptions(),
        )
        return replace(settings, **overrides)  # type: ignore[arg-type]

    def with_overrides(self, **overrides: object) -> Settings:
        return replace(self, **overrides)  # type: ignore[arg-type]
