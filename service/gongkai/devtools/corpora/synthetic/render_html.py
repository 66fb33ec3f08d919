"""Render a `ReportSpec` as a government web page (UTF-8 HTML), the other common publication form.

The page carries the clutter an extractor must ignore: head, nav bar, breadcrumb, footer with
主办单位 / ICP备 / 网站标识码 and a script; the report itself sits in <div class="TRS_Editor">, as on
TRS-based government sites, with the tables as <table border="1"> using rowspan/colspan.
"""

from __future__ import annotations

import hashlib
from html import escape

from gongkai.devtools.corpora.synthetic.layout import (
    Grid,
    GridCell,
    active_grids,
    appeals_grid,
    requests_grid,
)
from gongkai.devtools.corpora.synthetic.spec import RenderOptions, ReportSpec

_NAV = ("首页", "政务公开", "政务服务", "互动交流", "走进本地")
_BREADCRUMB = " &gt; ".join(
    ('<a href="/">首页</a>', '<a href="/zwgk/">政务公开</a>', '<a href="/zwgk/ndbg/">年度报告</a>')
)
_HITS = '浏览次数：<span id="hits"></span>'


def _site_ids(agency: str) -> tuple[str, str]:
    # Deterministic, plausible-looking registration numbers derived from the agency name.
    digest = int(hashlib.sha256(agency.encode("utf-8")).hexdigest(), 16)
    return f"苏ICP备{10000000 + digest % 89999999:08d}号", f"{3200000000 + digest % 99999999}"


def _cell_html(c: GridCell) -> str:
    attrs = ""
    if c.rowspan > 1:
        attrs += f' rowspan="{c.rowspan}"'
    if c.colspan > 1:
        attrs += f' colspan="{c.colspan}"'
    align = "left" if c.kind in ("label", "note") else "center"
    text = escape(c.text) if c.text else "&nbsp;"
    if c.kind == "vertical":
        text = "<br/>".join(escape(ch) for ch in c.text)
    return f'<td{attrs} style="text-align:{align};vertical-align:middle;"><p>{text}</p></td>'


def _table_html(grid: Grid) -> str:
    rows: list[str] = []
    for r in range(grid.n_rows):
        cells = sorted((c for c in grid.cells if c.row == r), key=lambda c: c.col)
        rows.append("<tr>" + "".join(_cell_html(c) for c in cells) + "</tr>")
    total = sum(grid.col_weights)
    colgroup = "".join(f'<col width="{100 * w / total:.1f}%"/>' for w in grid.col_weights)
    return (
        '<table border="1" cellspacing="0" cellpadding="0" width="100%" style="border-collapse:collapse;">'
        f"<colgroup>{colgroup}</colgroup><tbody>\n" + "\n".join(rows) + "\n</tbody></table>"
    )


def render_html(spec: ReportSpec, options: RenderOptions | None = None) -> bytes:
    """The report as a UTF-8 web page; page-layout options (breaks, headers) do not apply to HTML."""
    options = options or RenderOptions()
    icp, site_code = _site_ids(spec.agency)
    body: list[str] = [f'<p style="text-align:center;"><strong>{escape(spec.title)}</strong></p>']
    body += [f'<p style="text-indent:2em;">{escape(p)}</p>' for p in spec.preamble]
    for section in spec.sections:
        body.append(f'<p style="text-indent:2em;"><strong>{escape(section.heading)}</strong></p>')
        body += [f'<p style="text-indent:2em;">{escape(p)}</p>' for p in section.paragraphs]
        if section.key == "active":
            body += [_table_html(g) + "<p>&nbsp;</p>" for g in active_grids(spec, options)]
        elif section.key == "requests":
            body.append(_table_html(requests_grid(spec, options)))
        elif section.key == "appeals":
            body.append(_table_html(appeals_grid(spec, options)))
    body += [f'<p style="text-align:right;">{escape(line)}</p>' for line in spec.closing]
    nav = "".join(f'<li><a href="/{i}/">{escape(n)}</a></li>' for i, n in enumerate(_NAV))
    page = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8"/>
<meta name="SiteName" content="{escape(spec.agency)}"/>
<meta name="ArticleTitle" content="{escape(spec.title)}"/>
<meta name="PubDate" content="{spec.year + 1}-01-20 09:00"/>
<title>{escape(spec.title)}_{escape(spec.agency)}</title>
<link rel="stylesheet" href="/css/common.css"/>
</head>
<body>
<div class="header"><div class="logo">{escape(spec.agency)}</div>
<ul class="nav">{nav}</ul></div>
<div class="location">当前位置：{_BREADCRUMB}</div>
<div class="article">
<h1 class="title">{escape(spec.title)}</h1>
<div class="info">发布时间：{spec.year + 1}-01-20　来源：{escape(spec.agency)}　{_HITS}</div>
<div class="TRS_Editor">
{chr(10).join(body)}
</div>
</div>
<div class="footer">
<p>主办单位：{escape(spec.agency)}　版权所有：{escape(spec.agency)}</p>
<p><a href="https://beian.miit.gov.cn/">{icp}</a>　网站标识码：{site_code}</p>
</div>
<script type="text/javascript">
var hits = document.getElementById("hits"); if (hits) {{ hits.innerHTML = "1024"; }}
</script>
</body>
</html>
"""
    return page.encode("utf-8")
