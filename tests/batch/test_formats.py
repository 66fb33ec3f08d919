"""One real batch over every input path: formats, archives, re-issues, cross-year checks, the outputs.

The documents are few and small (extraction takes 0.1–2 s each), and one run serves all the tests
here (a module fixture); the .doc and .wps inputs are made from a DOCX by LibreOffice itself.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from gongkai.batch.dataset import CELL_SCHEMA, CHECK_SCHEMA, DOCUMENT_SCHEMA, REVIEW_COLUMNS
from gongkai.pipeline.result import ExtractionResult
from tests.batch.helpers import (
    article_of,
    consistent_spec,
    docx_bytes,
    gbk_named_zip,
    gbk_page,
    html_bytes,
    run,
)
from tests.conftest import shared_dir

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
NEEDS_SOFFICE = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")

TEXT_REPORT = """乙县人民政府2022年政府信息公开工作年度报告

本报告根据《中华人民共和国政府信息公开条例》要求编制，统计期限自2022年1月1日起至2022年12月31日止。

一、总体情况
2022年，乙县人民政府认真贯彻落实政务公开工作要求，全年共主动公开政府信息1200条。

二、主动公开政府信息情况
行政规范性文件：4件
行政许可：12件

三、收到和处理政府信息公开申请情况
本年新收政府信息公开申请数量：3件
上年结转政府信息公开申请数量：5件
予以公开：6件
结转下年度继续办理：2件

四、政府信息公开行政复议、行政诉讼情况
本年度未发生行政复议、行政诉讼案件。

五、存在的主要问题及改进情况
一是公开内容不够全面。下一步将加强培训。

六、其他需要报告的事项
本年度未收取信息处理费。
"""
NOTICE = (
    "关于召开全县安全生产工作会议的通知\n各乡镇人民政府：\n"
    "定于下周一上午九时在县政府三楼会议室召开会议，请准时参加。\n"
)


def _soffice(docx: bytes, target: str, work: Path) -> bytes:
    """A legacy file made by LibreOffice from a DOCX: ``doc`` or ``wps`` (WPS Office's .wps is Word 97)."""
    src = work / "in.docx"
    src.write_bytes(docx)
    filt = {"doc": "doc:MS Word 97", "wps": "wps:MS Word 97"}[target]
    cmd = [SOFFICE or "soffice", f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless"]
    subprocess.run([*cmd, "--convert-to", filt, "--outdir", str(work), str(src)], check=True, timeout=180,
                   capture_output=True)  # fmt: skip
    return (work / f"in.{target}").read_bytes()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("formats")
    src = base / "archive"
    src.mkdir()
    files: dict[str, bytes] = {}
    # 甲: 2021 as a UTF-8 page, 2022 as a GBK page in portal chrome under a shorter name. Carried 2 → 2.
    files["2021/jia.html"] = html_bytes(consistent_spec("平潭综合实验区管委会", 2021, carried_out=2))
    jia_2022 = html_bytes(consistent_spec("平潭综合实验区", 2022, carried_in=2, carried_out=4, new=5))
    files["2022/jia.htm"] = gbk_page(article_of(jia_2022))
    # 乙: 2021 as DOCX carried out 2, 2022 as crawled text that says 5 were carried in.
    files["2021/yi.docx"] = docx_bytes(consistent_spec("乙县人民政府", 2021, carried_out=2))
    files["2022/yi.txt"] = TEXT_REPORT.encode("gbk")
    files["misc/notice.txt"] = NOTICE.encode("gbk")
    # 戊 2022 twice: a first issue with a broken row total, then the corrected re-issue (in a GBK zip).
    good = consistent_spec("戊市生态环境局", 2022)
    files["戊.zip"] = gbk_named_zip(
        {
            "戊/初版.html": html_bytes(good.with_cell("requests.new.natural_person", "9")),
            "戊/更正版.html": html_bytes(good),
        }
    )
    if SOFFICE is not None:
        work = base / "lo"
        work.mkdir()
        files["old/bing.doc"] = _soffice(docx_bytes(consistent_spec("洪泽区人民政府", 2020)), "doc", work)
        files["old/ding.wps"] = _soffice(docx_bytes(consistent_spec("盱眙县人民政府", 2020)), "wps", work)
    shared = shared_dir()
    if shared is not None and (shared / "corpus/real/pingtan-2023.html").is_file():
        real = (shared / "corpus/real/pingtan-2023.html").read_text(encoding="utf-8")
        files["real/pingtan-2023.htm"] = gbk_page(real[real.index("<body>") + 6 : real.rindex("</body>")])
        files["real/haizhou-2022.txt"] = (shared / "corpus/real/haizhou-2022.txt").read_bytes()
    for name, data in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
    out = base / "out"
    counts = run([src], out, timeout=300.0)
    with (out / "documents.csv").open(encoding="utf-8-sig", newline="") as fh:
        docs = {r["file"].removeprefix(str(src) + "/"): r for r in csv.DictReader(fh)}
    with (out / "checks.csv").open(encoding="utf-8-sig", newline="") as fh:
        checks = list(csv.DictReader(fh))
    return {"src": src, "out": out, "counts": counts, "docs": docs, "checks": checks, "files": files}


def _result(batch: dict[str, Any], name: str) -> dict[str, Any]:
    sha = batch["docs"][name]["sha256"]
    return json.loads((batch["out"] / "results" / f"{sha}.json").read_text(encoding="utf-8"))


def _value(result: dict[str, Any], cell: str) -> Any:
    return result["cells"][cell]["value"]


def test_every_file_gets_a_status(batch: dict[str, Any]) -> None:
    docs = batch["docs"]
    assert set(docs) == {n for n in batch["files"] if not n.endswith(".zip")} | {
        "戊.zip!戊/初版.html",
        "戊.zip!戊/更正版.html",
    }
    kinds = {n: d["kind"] for n, d in docs.items() if d["status"] == "done"}
    assert kinds["2021/jia.html"] == kinds["2022/jia.htm"] == "html"
    assert kinds["2021/yi.docx"] == "docx" and kinds["2022/yi.txt"] == "text"
    assert batch["counts"].get("failed") == 1  # the notice


def test_a_gbk_page_in_portal_chrome_is_read_as_the_article(batch: dict[str, Any]) -> None:
    r = _result(batch, "2022/jia.htm")
    assert r["metadata"]["agency"] == "平潭综合实验区" and r["metadata"]["year"] == 2022
    assert _value(r, "requests.carried_in.total") == 2 and _value(r, "requests.new.total") == 5
    assert not [c for c in r["checks"] if c["status"] == "fail"]
    text = " ".join(p["text"] for s in r["sections"] for p in s["paragraphs"])
    for chrome in ("版权所有", "相关新闻", "常务会议", "您现在的位置"):
        assert chrome not in text


def test_plain_text_keeps_the_statistics_and_says_which_table_is_missing(batch: dict[str, Any]) -> None:
    r = _result(batch, "2022/yi.txt")
    assert r["pages"][0]["text_source"] == "text" and r["source"]["media_type"] == "text/plain"
    assert r["metadata"]["agency"] == "乙县人民政府" and r["metadata"]["year"] == 2022
    assert _value(r, "requests.carried_in.total") == 5 and _value(r, "requests.new.total") == 3
    assert _value(r, "requests.carried_in.natural_person") is None  # never printed, never invented
    missing = [w for w in r["warnings"] if w.startswith("table_not_recovered")]
    assert len(missing) == 1 and "四" in missing[0]


@NEEDS_SOFFICE
@pytest.mark.parametrize(
    ("name", "agency"), [("old/bing.doc", "洪泽区人民政府"), ("old/ding.wps", "盱眙县人民政府")]
)
def test_legacy_word_and_wps_files_are_converted_by_libreoffice(
    batch: dict[str, Any], name: str, agency: str
) -> None:
    d = batch["docs"][name]
    assert d["status"] == "done", d["error"]
    # Real counties: the region is resolved in the table of divisions, and its level with it.
    assert d["kind"] == "doc" and d["level"] == "county"
    r = _result(batch, name)
    assert r["source"]["media_type"] == "application/msword"
    assert r["source"]["sha256"] == d["sha256"]  # the file as found, not the conversion
    assert r["metadata"]["agency"] == agency and r["metadata"]["year"] == 2020
    assert _value(r, "requests.new.total") == 3 and _value(r, "requests.carried_out.natural_person") == 2
    assert any("LibreOffice" in w for w in r["warnings"])


def test_a_non_report_is_recorded_with_its_reason(batch: dict[str, Any]) -> None:
    d = batch["docs"]["misc/notice.txt"]
    assert d["status"] == "failed" and d["error_code"] == "not_a_report"
    assert "not a government information disclosure annual report" in d["error"]


def test_cross_year_carried_requests_pass_for_one_agency_and_fail_for_another(batch: dict[str, Any]) -> None:
    carried = {
        (c["agency_key"], c["id"]): c for c in batch["checks"] if c["id"].startswith("cross_year:carried:")
    }
    # 平潭综合实验区管委会 (2021) and 平潭综合实验区 (2022) are one agency.
    jia = carried[("平潭综合实验区", "cross_year:carried:total")]
    assert jia["scope"] == "cross-year" and jia["status"] == "pass" and jia["year"] == "2022"
    assert carried[("平潭综合实验区", "cross_year:carried:natural_person")]["status"] == "pass"
    yi = carried[("乙县", "cross_year:carried:total")]
    assert yi["status"] == "warn" and float(yi["expected"]) == 2 and float(yi["actual"]) == 5
    assert yi["other_document"] == batch["docs"]["2021/yi.docx"]["sha256"]
    assert carried[("乙县", "cross_year:carried:natural_person")]["status"] == "not_assessable"
    with (batch["out"] / "review.csv").open(encoding="utf-8-sig") as fh:
        review = {r["file"].rsplit("/", 1)[-1]: r["reason"] for r in csv.DictReader(fh)}
    assert "cross_year:carried:total" in review["yi.txt"]
    assert "jia.htm" not in review


def test_a_reissue_is_grouped_and_the_corrected_one_counts(batch: dict[str, Any]) -> None:
    first, second = batch["docs"]["戊.zip!戊/初版.html"], batch["docs"]["戊.zip!戊/更正版.html"]
    assert first["reissue_group"] == second["reissue_group"] == "戊市生态环境局/2022"
    assert (first["counted"], second["counted"]) == ("False", "True")
    assert second["counted_reason"].startswith("fewest failing identity checks")
    same_year = [c for c in batch["checks"] if c["id"] == "same_year:reissue"]
    assert [(c["document"], c["scope"], c["status"]) for c in same_year] == [
        (first["sha256"], "cross-document", "warn")
    ]


def test_the_output_files_have_their_schemas(batch: dict[str, Any]) -> None:
    out = batch["out"]
    for name, schema in (("documents", DOCUMENT_SCHEMA), ("cells", CELL_SCHEMA), ("checks", CHECK_SCHEMA)):
        table = pq.read_table(out / f"{name}.parquet")
        assert table.schema.equals(schema), name
        with (out / f"{name}.csv").open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            assert next(reader) == schema.names
            assert sum(1 for _ in reader) == table.num_rows
    with (out / "review.csv").open(encoding="utf-8-sig", newline="") as fh:
        assert next(csv.reader(fh)) == list(REVIEW_COLUMNS)
    cells = pq.read_table(out / "cells.parquet").to_pylist()
    done = {d["sha256"] for d in batch["docs"].values() if d["status"] == "done"}
    assert {c["document"] for c in cells} == done
    jia = next(
        c for c in cells if c["agency"] == "平潭综合实验区" and c["cell"] == "requests.carried_in.total"
    )
    assert jia["value"] == 2 and jia["raw"] == "2" and jia["year"] == 2022 and jia["flags"] == ""
    scopes = {c["scope"] for c in pq.read_table(out / "checks.parquet").to_pylist()}
    assert scopes == {"document", "cross-year", "cross-document"}


def test_result_files_are_what_gongkai_extract_writes(batch: dict[str, Any]) -> None:
    from gongkai.pipeline.extract import extract_bytes
    from gongkai.settings import PipelineOptions

    for d in batch["docs"].values():
        if d["status"] == "done":
            text = (batch["out"] / "results" / f"{d['sha256']}.json").read_text(encoding="utf-8")
            ExtractionResult.model_validate_json(text)
    data = batch["files"]["2021/jia.html"]
    expected = extract_bytes(data, "jia.html", options=PipelineOptions(ocr=False)).to_json() + "\n"
    assert (batch["out"] / "results" / f"{batch['docs']['2021/jia.html']['sha256']}.json").read_text(
        encoding="utf-8"
    ) == expected


def test_the_summary_is_one_self_contained_page(batch: dict[str, Any]) -> None:
    html = (batch["out"] / "summary.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 2  # documents per year, requests per agency
    assert "src='http" not in html and 'src="http' not in html and "<link" not in html
    assert "not_a_report (1)" in html
    assert "cross_year:carried:total" in html


def test_real_reports_in_gbk_chrome_and_as_crawled_text(batch: dict[str, Any]) -> None:
    if "real/haizhou-2022.txt" not in batch["docs"]:
        pytest.skip("../shared/corpus/real is not available on this machine")
    pingtan = batch["docs"]["real/pingtan-2023.htm"]
    assert pingtan["status"] == "done" and pingtan["year"] == "2023"
    assert pingtan["kind"] == "html" and int(pingtan["n_failing_checks"]) == 0
    haizhou = batch["docs"]["real/haizhou-2022.txt"]
    assert haizhou["status"] == "done" and haizhou["kind"] == "text" and haizhou["year"] == "2022"
    assert _value(_result(batch, "real/haizhou-2022.txt"), "requests.new.total") == 3
