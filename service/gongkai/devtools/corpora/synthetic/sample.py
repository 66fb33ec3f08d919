"""Write a sample born-digital report for the demo where ../shared is absent.

Usage: python -m gongkai.devtools.corpora.synthetic.sample OUT.pdf
"""

from __future__ import annotations

import sys
from pathlib import Path

from gongkai.devtools.corpora.synthetic.render_pdf import render_pdf
from gongkai.devtools.corpora.synthetic.spec import RenderOptions, blank_spec


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m gongkai.devtools.corpora.synthetic.sample OUT.pdf\n")
        return 2
    spec = blank_spec("2021", 2023, "某某市某某区人民政府", value="0")
    spec = spec.with_cell("requests.new.natural_person", "5").with_cell("requests.new.total", "5")
    spec = spec.with_cell("requests.granted.natural_person", "3").with_cell("requests.granted.total", "3")
    spec = spec.with_cell("requests.partial.natural_person", "2").with_cell("requests.partial.total", "2")
    spec = spec.with_cell("requests.results_total.natural_person", "5").with_cell(
        "requests.results_total.total", "5"
    )
    Path(argv[0]).write_bytes(render_pdf(spec, RenderOptions(page_header=spec.title)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
