"""Metadata (agency, region, year) of every real report in ../shared/corpus/real/, and the region
table it rests on. The expected values were read off the documents by hand."""

from __future__ import annotations

import importlib.util

import pytest

from gongkai.pipeline.extract import extract_bytes, extract_path
from gongkai.pipeline.nlp import regions
from gongkai.pipeline.nlp.metadata import extract_metadata, region_of
from tests.conftest import real_document

needs_cpca = pytest.mark.skipif(
    importlib.util.find_spec("cpca") is None, reason="cpca (the table of divisions) is not installed"
)

# file → (agency, region, year). 平潭综合实验区 covers exactly 平潭县 (福州市), the only county whose
# short name is 平潭; the 2023 report's title is only in the page's <title>.
REAL = {
    "huaian-hongze-2023.pdf": ("洪泽区人民政府", "淮安市洪泽区", 2023),
    "pingtan-2011.html": ("平潭综合实验区", "平潭县", 2011),
    "pingtan-dishuiju-2013.html": ("平潭综合实验区地方税务局", "平潭县", 2013),
    "pingtan-2023.html": ("平潭综合实验区", "平潭县", 2023),
}


@needs_cpca
@pytest.mark.parametrize("name", sorted(REAL))
def test_metadata_of_real_reports(name: str) -> None:
    md = extract_path(real_document(name)).metadata
    assert (md.agency, md.region, md.year) == REAL[name]
    assert md.title is not None and str(REAL[name][2]) in md.title


@needs_cpca
def test_metadata_of_the_haizhou_report() -> None:
    from gongkai.devtools.corpora.real.haizhou import haizhou_spec_and_options
    from gongkai.devtools.corpora.synthetic import render_pdf

    spec, options = haizhou_spec_and_options(real_document("haizhou-2022.txt"))
    md = extract_bytes(render_pdf(spec, options), "haizhou.pdf").metadata
    # 海州区 is a district of 连云港市 and of 阜新市; the report names no city, so neither is added
    assert (md.agency, md.region, md.year) == ("海州区人民政府办公室", "海州区", 2022)


def test_metadata_title_only_in_the_page_title() -> None:
    html = (
        "<html><head><meta charset='utf-8'><title>平潭综合实验区2023年度政府信息公开工作年度报告</title>"
        "</head><body><div class='article_content'>"
        "<p>本报告根据《国务院办公厅政府信息与政务公开办公室关于印发"
        "〈中华人民共和国政府信息公开工作年度报告格式〉的通知》等文件要求编制而成。</p>"
        "<p>一、总体情况</p><p>2023年，平潭综合实验区全年主动公开政府信息13561条。</p>"
        "<p>五、存在的主要问题及改进情况</p><p>存在的问题主要有：政策解读的质量有待提高。</p>"
        "<p>六、其他需要报告的事项</p><p>2023年，无收取信息处理费情况。</p></div></body></html>"
    )
    md = extract_bytes(html.encode(), "page.html").metadata
    # the cited 国务院办公厅 is never the agency
    assert md.agency == "平潭综合实验区" and md.year == 2023
    assert md.title == "平潭综合实验区2023年度政府信息公开工作年度报告"


def test_metadata_agency_order_of_trust() -> None:
    opening = "2012年，连云港市海州区人民政府办公室认真组织开展政府信息公开工作。"
    # the title wins over the page title and the text
    md = extract_metadata(
        "灌云县人民政府2012年政府信息公开工作年度报告", [opening], "某市2011年信息公开年度报告"
    )
    assert (md["agency"], md["year"]) == ("灌云县人民政府", 2012)
    # a page title that is a site name, not a report's title, is ignored
    md = extract_metadata(None, [opening], "政府信息公开年报_某某门户网站")
    assert md["agency"] == "连云港市海州区人民政府办公室"
    # a name cited inside 《》 in the opening sentence is not the author; the signature is
    cited = [
        "根据《国务院办公厅关于做好政府信息公开工作的通知》要求，现将情况报告如下。",
        "全年公开信息120条。",
    ]
    md = extract_metadata(None, [*cited, "海州区人民政府办公室", "2013年1月20日"])
    assert md["agency"] == "海州区人民政府办公室"
    assert extract_metadata(None, cited)["agency"] is None


@needs_cpca
def test_metadata_region_is_looked_up_never_sliced() -> None:
    assert region_of("平潭综合实验区地方税务局") == "平潭县"
    assert region_of("年度平潭县地税局") is None  # a sentence fragment is no place name
    assert region_of("国务院办公厅") is None
    assert region_of("朝阳区人民政府") == "朝阳区"  # ambiguous county: kept as written, no city added
    assert region_of("朝阳综合实验区") is None  # 朝阳 is the short name of several divisions: unsure
    assert region_of("北京市朝阳区人民政府") == "北京市朝阳区"
    # the city is added only where the table puts the county in it
    md = extract_metadata("洪泽区人民政府2023年政府信息公开工作年度报告", ["由南京市洪泽区某单位转来。"])
    assert md["region"] == "洪泽区"
    md = extract_metadata(None, ["2012年，海州区人民政府办公室认真工作。", "阜新市海州区的申请人1人。"])
    assert md["region"] == "阜新市海州区"


def test_metadata_without_the_division_table(monkeypatch: pytest.MonkeyPatch) -> None:
    # without cpca the region is null, never a guess
    monkeypatch.setattr(regions, "_table", lambda: None)
    assert region_of("淮安市洪泽区人民政府") is None
    md = extract_metadata("洪泽区人民政府2023年政府信息公开工作年度报告", [])
    assert (md["agency"], md["region"]) == ("洪泽区人民政府", None)
