"""Documents and runs for the batch tests."""

from __future__ import annotations

import sqlite3
import zipfile
from collections import Counter
from contextlib import closing
from io import BytesIO
from pathlib import Path
from typing import Any

from gongkai.batch.manifest import MANIFEST_NAME
from gongkai.batch.progress import QuietReporter
from gongkai.batch.runner import BatchConfig, run_batch
from gongkai.settings import PipelineOptions


def consistent_spec(
    agency: str, year: int, *, new: int = 3, carried_in: int = 1, carried_out: int = 2
) -> Any:
    """A 2021-format report whose identities hold: every request from natural persons, all granted."""
    from gongkai.devtools.corpora.synthetic.spec import blank_spec

    spec = blank_spec("2021", year, agency, "0")
    granted = new + carried_in - carried_out
    for col in ("natural_person", "total"):
        for row, value in (
            ("new", new),
            ("carried_in", carried_in),
            ("granted", granted),
            ("results_total", granted),
            ("carried_out", carried_out),
        ):
            spec = spec.with_cell(f"requests.{row}.{col}", str(value))
    return spec


def html_bytes(spec: Any) -> bytes:
    from gongkai.devtools.corpora.synthetic.render_html import render_html

    return render_html(spec)


def docx_bytes(spec: Any) -> bytes:
    from gongkai.devtools.corpora.synthetic.render_docx import render_docx

    return render_docx(spec)


def gbk_page(article_html: str, site: str = "某市人民政府门户网站") -> bytes:
    """An article inside a portal's chrome, saved as GBK the way old government sites serve it."""
    links = "".join(f'<li><a href="/news/{i}.html">{site}召开第{i}次常务会议</a></li>' for i in range(1, 25))
    page = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN">
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{site}</title><script>var hits = 0;</script></head>
<body>
<div id="top"><div class="topnav"><a href="/">首页</a> | <a href="/zwgk/">政务公开</a>
 | <a href="/hdjl/">互动交流</a></div></div>
<div class="position">您现在的位置：<a href="/">首页</a> &gt; 政府信息公开年报</div>
<table width="1000"><tr>
<td class="left" width="240"><div class="sidebar"><h3>相关新闻</h3><ul>{links}</ul></div></td>
<td width="760"><div class="zwnr">{article_html}</div></td>
</tr></table>
<div class="footer">版权所有：{site} 主办单位：{site}办公室 闽ICP备05000000号 网站标识码3500000000</div>
</body></html>"""
    return page.encode("gbk")


def article_of(html: bytes) -> str:
    """The article of a synthetic page (title, info line and report), without its own chrome."""
    text = html.decode("utf-8")
    return text[text.index('<div class="article">') : text.index('<div class="footer">')]


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def gbk_named_zip(members: dict[str, bytes]) -> bytes:
    """A zip as Chinese Windows tools write it: names in GBK, without the UTF-8 flag.

    zipfile always flags non-ASCII names as UTF-8, so each name is written as an ASCII placeholder of
    the same byte length and then patched in place (local header and central directory alike).
    """
    placeholders = {}
    plain = {}
    for i, (name, data) in enumerate(members.items()):
        raw = name.encode("gbk")
        ph = f"GK{i}".ljust(len(raw), "Q").encode("ascii")
        assert len(ph) == len(raw)
        placeholders[ph] = raw
        plain[ph.decode("ascii")] = data
    blob = zip_bytes(plain)
    for ph, raw in placeholders.items():
        assert blob.count(ph) == 2, "placeholder must occur once per header"
        blob = blob.replace(ph, raw)
    return blob


def run(sources: list[Path | str], out: Path, **kw: Any) -> dict[str, int]:
    kw.setdefault("workers", 1)
    kw.setdefault("timeout", 60.0)
    kw.setdefault("options", PipelineOptions(ocr=False))
    config = BatchConfig(sources=[str(s) for s in sources], out_dir=out, argv=["test"], **kw)
    return run_batch(config, QuietReporter())


def manifest_events(out: Path, event: str) -> Counter[str]:
    """How many times each document (sha256) has the manifest event ``event`` (start, done, …)."""
    with closing(sqlite3.connect(out / MANIFEST_NAME)) as db:
        return Counter(r[0] for r in db.execute("SELECT sha256 FROM events WHERE event = ?", (event,)))


def done_so_far(out: Path) -> int:
    """Documents completed so far; 0 before the batch has made its manifest."""
    try:
        return sum(manifest_events(out, "done").values())
    except sqlite3.OperationalError:
        return 0
