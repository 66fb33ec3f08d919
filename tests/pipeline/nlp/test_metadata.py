"""Metadata from the title block and text."""

from __future__ import annotations

import importlib.util

import pytest

from gongkai.pipeline.nlp.metadata import extract_metadata, region_of

# regions come from cpca's table of divisions; without it they are null
pytestmark = pytest.mark.skipif(importlib.util.find_spec("cpca") is None, reason="cpca is not installed")


def test_title_gives_agency_year_and_the_text_a_fuller_region() -> None:
    md = extract_metadata(
        "洪泽区人民政府 2023 年政府信息公开工作年度报告",
        ["本报告由淮安市洪泽区人民政府办公室根据《条例》要求编制。"],
    )
    assert md == {
        "title": "洪泽区人民政府2023年政府信息公开工作年度报告",
        "agency": "洪泽区人民政府",
        "region": "淮安市洪泽区",
        "year": 2023,
    }


def test_without_a_title_the_text_names_agency_and_year() -> None:
    md = extract_metadata(None, ["2012年，连云港市海州区人民政府办公室认真组织开展政府信息公开工作。"])
    assert md["year"] == 2012
    assert md["agency"] == "连云港市海州区人民政府办公室"
    assert md["region"] == "连云港市海州区"


def test_regions_of_agency_names() -> None:
    assert region_of("江苏省交通运输厅") == "江苏省"
    assert region_of("海州区人民政府办公室") == "海州区"
    assert region_of("南京市玄武区玄武门街道办事处") == "南京市玄武区玄武门街道"
    assert region_of("市生态环境局") is None
