"""Settings: the pipeline options come from GONGKAI_* and CLI flags, and only settings.py reads the env."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from gongkai.cli import build_parser, main
from gongkai.commands.extract import options_from_args
from gongkai.settings import PipelineOptions, Settings, SettingsError

PACKAGE = Path(__file__).resolve().parents[1] / "service" / "gongkai"
OPTION_VARS = [f"GONGKAI_{name.upper()}" for name in PipelineOptions.model_fields]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each test starts from the defaults, whatever the machine running the tests exports.
    for name in OPTION_VARS:
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    options = PipelineOptions()
    assert options.ocr and options.layout_model
    assert (options.ocr_engine, options.ocr_second_engine) == ("ppocr-v6", "auto")
    assert options.ocr_workers is None and options.ocr_threads is None and options.models_dir is None
    assert options.workers_for(1) == 1 and options.threads_per_document() >= 1


def test_the_environment_sets_every_option(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in {
        "GONGKAI_OCR": "0",
        "GONGKAI_OCR_ENGINE": "ppocr-v4",
        "GONGKAI_OCR_SECOND_ENGINE": "none",  # the docs' spelling of off
        "GONGKAI_OCR_WORKERS": "3",
        "GONGKAI_OCR_THREADS": "2",
        "GONGKAI_LAYOUT_MODEL": "0",
        "GONGKAI_MODELS_DIR": str(tmp_path),
        "GONGKAI_MAX_BYTES": "1000",
    }.items():
        monkeypatch.setenv(name, value)
    options = PipelineOptions()
    assert not options.ocr and not options.layout_model
    assert (options.ocr_engine, options.ocr_second_engine) == ("ppocr-v4", "off")
    assert (options.ocr_workers, options.ocr_threads) == (3, 2)
    assert options.models_dir == tmp_path and options.max_bytes == 1000
    assert (
        options.workers_for(2) == 2 and options.workers_for(10) == 3 and options.threads_per_document() == 2
    )


def test_an_empty_variable_is_not_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGKAI_OCR_THREADS", "")
    monkeypatch.setenv("GONGKAI_MODELS_DIR", "")
    options = PipelineOptions()
    assert options.ocr_threads is None and options.models_dir is None


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("GONGKAI_OCR_THREADS", "0", "ocr_threads"),
        ("GONGKAI_OCR_WORKERS", "many", "ocr_workers"),
        ("GONGKAI_OCR_ENGINE", "bogus", "ocr_engine"),
        ("GONGKAI_OCR", "maybe", "ocr"),
    ],
)
def test_an_invalid_value_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, field: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        PipelineOptions()
    message = str(err.value)
    assert name in message and field in message and repr(value) in message and "\n" not in message
    assert isinstance(err.value, ValueError)


def test_cli_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GONGKAI_OCR_ENGINE", "ppocr-v4")
    monkeypatch.setenv("GONGKAI_OCR_THREADS", "0")  # invalid, but the flag replaces it
    monkeypatch.setenv("GONGKAI_OCR_WORKERS", "4")
    monkeypatch.setenv("GONGKAI_MAX_BYTES", "5000")
    args = build_parser().parse_args(
        [
            "extract",
            "r.pdf",
            "--ocr-engine",
            "ppocr-v6",
            "--ocr-threads",
            "2",
            "--no-ocr",
            "--no-layout-model",
            "--models-dir",
            str(tmp_path),
            "--ocr-second-engine",
            "off",
        ]
    )
    options = options_from_args(args)
    assert (options.ocr_engine, options.ocr_threads, options.ocr_second_engine) == ("ppocr-v6", 2, "off")
    assert not options.ocr and not options.layout_model and options.models_dir == tmp_path
    # Flags left out keep the environment's values.
    assert options.ocr_workers == 4 and options.max_bytes == 5000
    monkeypatch.delenv("GONGKAI_OCR_THREADS")
    args = build_parser().parse_args(["extract", "r.pdf", "--max-bytes", "10"])
    assert options_from_args(args).max_bytes == 10


def test_no_flags_means_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGKAI_OCR", "0")
    monkeypatch.setenv("GONGKAI_LAYOUT_MODEL", "false")
    options = options_from_args(build_parser().parse_args(["extract", "r.pdf"]))
    assert options == PipelineOptions() and not options.ocr and not options.layout_model


def test_an_invalid_flag_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    report = tmp_path / "r.pdf"
    report.write_bytes(b"%PDF-1.4\n")
    assert main(["extract", str(report), "--ocr-workers", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gongkai: invalid pipeline option ocr_workers") and err.count("\n") == 1


def test_options_pickle_round_trip(tmp_path: Path) -> None:
    # They travel to the OCR page pool's spawned processes and to the job pool's workers.
    options = PipelineOptions(ocr_engine="ppocr-v4", ocr_workers=2, models_dir=tmp_path, layout_model=False)
    again = pickle.loads(pickle.dumps(options))
    assert again == options and again.models_dir == tmp_path
    with pytest.raises(Exception, match="frozen"):
        options.ocr = False  # type: ignore[misc]


def test_parallel_documents_share_the_cores() -> None:
    options = PipelineOptions()
    assert options.sharing_cores(1) is options  # one document at a time: a page pool per core
    shared = options.sharing_cores(2)
    assert (shared.ocr_workers, shared.ocr_threads) == (1, 1)
    chosen = PipelineOptions(ocr_workers=3).sharing_cores(4)
    assert (chosen.ocr_workers, chosen.ocr_threads) == (3, 1)  # what the user set stays


def test_the_service_settings_carry_the_pipeline_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGKAI_OCR_ENGINE", "ppocr-v4")
    settings = Settings.from_env()
    assert settings.pipeline.ocr_engine == "ppocr-v4"
    assert pickle.loads(pickle.dumps(settings)) == settings  # sent to spawned pool workers


def test_the_local_pool_runs_one_ocr_process_per_job() -> None:
    from gongkai.server.jobs.pool import LocalPool

    two = LocalPool(Settings(workers=2, pool="thread"))
    assert (two.settings.pipeline.ocr_workers, two.settings.pipeline.ocr_threads) == (1, 1)
    one = LocalPool(Settings(workers=1, pool="thread", pipeline=PipelineOptions()))
    assert one.settings.pipeline.ocr_workers is None
    own = LocalPool(Settings(workers=2, pool="thread", pipeline=PipelineOptions(ocr_threads=2)))
    assert (own.settings.pipeline.ocr_workers, own.settings.pipeline.ocr_threads) == (1, 2)


_ENV_READ = re.compile(r"\bos\.environ\b|\bgetenv\b|\bfrom os import\b[^\n]*\benviron\b")


def test_only_settings_reads_the_environment() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != PACKAGE / "settings.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _ENV_READ.search(line)
    ]
    assert offenders == []
