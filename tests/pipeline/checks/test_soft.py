from __future__ import annotations

import dataclasses

from gongkai.devtools.corpora.synthetic import render_html
from gongkai.devtools.corpora.synthetic.spec import RenderOptions, blank_spec
from gongkai.pipeline.extract import extract_bytes


def _soft(result: object, check_id: str) -> str:
    checks = result.checks  # type: ignore[attr-defined]
    return next(c.status for c in checks if c.id == check_id)


def test_statistics_period_must_match_the_report_year() -> None:
    spec = blank_spec("2021", 2023, "某某县人民政府")
    assert _soft(extract_bytes(render_html(spec, RenderOptions()), "a.html"), "year.period") == "pass"
    wrong = dataclasses.replace(spec, preamble=["本报告数据统计期限自2022年1月1日起至2022年12月31日止。"])
    result = extract_bytes(render_html(wrong, RenderOptions()), "b.html")
    assert _soft(result, "year.period") == "warn"
    assert not result.failing_checks()  # a soft check never fails a report


def test_regulations_at_county_level_warn_when_not_zero() -> None:
    spec = blank_spec("2021", 2023, "某某县人民政府")
    assert (
        _soft(extract_bytes(render_html(spec, RenderOptions()), "a.html"), "active.regulations_county")
        == "pass"
    )
    odd = spec.with_cell("active.regulations.issued", "2").with_cell("active.regulations.in_force", "2")
    assert (
        _soft(extract_bytes(render_html(odd, RenderOptions()), "b.html"), "active.regulations_county")
        == "warn"
    )
    city = blank_spec("2021", 2023, "某某省人民政府").with_cell("active.regulations.issued", "2")
    result = extract_bytes(render_html(city, RenderOptions()), "c.html")
    assert not any(c.id == "active.regulations_county" for c in result.checks)
