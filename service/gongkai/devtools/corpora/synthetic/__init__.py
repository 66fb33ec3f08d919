"""Render a report description (`ReportSpec`) as PDF, HTML or DOCX.

Used by the tests now and by the synthetic corpus generator later: every rendered document comes
with its truth (the spec's cells), so an extractor can be scored without hand labelling.
"""

from gongkai.devtools.corpora.synthetic.render_docx import render_docx
from gongkai.devtools.corpora.synthetic.render_html import render_html
from gongkai.devtools.corpora.synthetic.render_pdf import render_pdf
from gongkai.devtools.corpora.synthetic.spec import RenderOptions, ReportSpec, SectionSpec, blank_spec

__all__ = [
    "RenderOptions",
    "ReportSpec",
    "SectionSpec",
    "blank_spec",
    "render_docx",
    "render_html",
    "render_pdf",
]
