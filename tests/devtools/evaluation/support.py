"""Shared helpers for the evaluation tests (no tests here): a small report, its truth, a corpus."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from gongkai.devtools.corpora.synthetic.spec import RenderOptions, ReportSpec, SectionSpec, blank_spec
from gongkai.devtools.corpora.truth import Truth, TruthParagraph
from gongkai.pipeline.schema import load_format
from tests.conftest import REPO

AGENCY = "某某市某某区人民政府"
PREAMBLE = (
    "本报告根据《中华人民共和国政府信息公开条例》要求编制，统计期限自2021年1月1日起至2021年12月31日止。"
)
OVERVIEW = "2021年，{a}坚持以人民为中心，围绕中心工作深化政务公开，主动公开各类政府信息共计1200余条。"
PROBLEM = "一是政务公开工作存在不足，部分单位对政务公开重视程度不够，信息发布不够及时。"
IMPROVE = "下一步，我们将进一步加强业务培训，完善工作机制，推动政务公开工作再上新台阶。"
OTHER = "本年度未收取信息处理费。{a}无其他需要报告的事项。"

Renderer = Callable[[ReportSpec, RenderOptions | None], bytes]


def report_spec(year: int = 2021) -> ReportSpec:
    """A 2021 report with small consistent numbers and one paragraph per narrative label."""
    spec = blank_spec("2021", year, AGENCY, value="0")
    spec.preamble = [PREAMBLE]
    narrative = {
        "overview": [OVERVIEW.format(a=AGENCY)],
        "problems_improvements": [PROBLEM, IMPROVE],
        "other_matters": [OTHER.format(a=AGENCY)],
    }
    spec.sections = [
        SectionSpec(s.key, s.heading, narrative.get(s.key, list(s.paragraphs))) for s in spec.sections
    ]
    for row, n in (("new", 5), ("granted", 3), ("partial", 2), ("results_total", 5)):
        spec = spec.with_cell(f"requests.{row}.natural_person", str(n)).with_cell(
            f"requests.{row}.total", str(n)
        )
    return spec.with_cell("active.normative_docs.issued", "4").with_cell("active.fees.amount", "12.5")


def truth_of(spec: ReportSpec, document: str, kind: str, **extra: object) -> Truth:
    cells: dict[str, int | Decimal | None] = {}
    blank = []
    for cid, text in spec.cells.items():
        if text == "":
            cells[cid] = None
            blank.append(cid)
        else:
            cells[cid] = Decimal(text) if "." in text else int(text)
    labels = {"overview": "overview", "other_matters": "other_matters"}
    paragraphs = [TruthParagraph(section="preamble", label="overview", text=p) for p in spec.preamble]
    for s in spec.sections:
        for p in s.paragraphs:
            label = labels.get(s.key) or ("improvements" if p.startswith("下一步") else "problems")
            paragraphs.append(TruthParagraph(section=s.key, label=label, text=p))  # type: ignore[arg-type]
    data: dict[str, object] = {
        "document": document,
        "kind": kind,
        "format": spec.format,
        "year": spec.year,
        "agency": spec.agency,
        "cells": cells,
        "blank": blank,
        "paragraphs": paragraphs,
    }
    data.update(extra)
    return Truth.model_validate(data)


def identities_of(cell_id: str) -> list[str]:
    return sorted(i.id for i in load_format("2021").identities if cell_id in i.lhs + i.rhs)


def write_document(
    folder: Path, name: str, kind: str, render: Renderer, spec: ReportSpec, **extra: object
) -> None:
    (folder / name).write_bytes(render(spec, None))
    truth_of(spec, name, kind, **extra).save(folder / f"{name.rsplit('.', 1)[0]}.truth.json")


def committed_fixtures() -> Path:
    fixtures = REPO / "tests" / "fixtures" / "synthetic"
    if not fixtures.is_dir() or not any(fixtures.rglob("*.truth.json")):
        pytest.skip("tests/fixtures/synthetic (generator samples) is not in the tree yet")
    return fixtures
