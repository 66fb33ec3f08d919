"""Screenshots of the review workspace for docs/review.md, taken in a real Chromium.

    python -m gongkai.devtools.screenshots [--out docs/images] [--pdf REPORT.pdf]

Starts the service on a free loopback port with a fresh database, signs in as a reviewer, uploads
the report (the real 洪泽区 2023 report by default, a rendered synthetic one where ../shared is
absent), waits for its result, then saves the queue and the document view with a failing check
selected, at 1280×800.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from gongkai.devtools.browser import chromium_path, launch, live_server, sign_in, wait_until_done
from gongkai.settings import shared_dir

VIEWPORT = {"width": 1280, "height": 800}


def default_pdf() -> Path | None:
    path = shared_dir() / "corpus" / "real" / "huaian-hongze-2023.pdf"
    return path if path.is_file() else None


def take(out: Path, pdf: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise SystemExit("no Chromium found: apt-get install chromium, or set GONGKAI_CHROMIUM")
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    with tempfile.TemporaryDirectory() as tmp, live_server(Path(tmp)) as live, sync_playwright() as p:
        browser = launch(p, executable)
        # bypass_csp: wait_for_function evaluates a string, which the pages' own CSP refuses.
        page = browser.new_context(viewport=VIEWPORT, bypass_csp=True).new_page()
        sign_in(page, live.url, live.keys["reviewer"])
        page.set_input_files("#file-input", str(pdf))
        page.wait_for_selector("#uploads li a")
        doc_id = page.eval_on_selector("#queue tr[data-document-id]", "row => row.dataset.documentId")
        wait_until_done(page, doc_id)
        page.goto(f"{live.url}/review")
        page.evaluate("document.fonts.ready.then(() => true)")
        saved.append(out / "review-queue.png")
        page.screenshot(path=str(saved[-1]))
        page.goto(f"{live.url}/review/documents/{doc_id}")
        failing = page.locator('#checks li[data-status="fail"] button')
        if failing.count():
            failing.first.click()
        # The selected cell's page image and the fonts must be in before the picture is taken.
        page.wait_for_function("document.getElementById('page-image')?.complete ?? true")
        page.evaluate("document.fonts.ready.then(() => true)")
        saved.append(out / "review-document.png")
        page.screenshot(path=str(saved[-1]))
        browser.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    parser.add_argument("--pdf", type=Path, default=None, help="the report to show (default: 洪泽区 2023)")
    args = parser.parse_args(argv)
    pdf = args.pdf or default_pdf()
    if pdf is None:
        from gongkai.devtools.corpora.synthetic import sample

        pdf = Path(tempfile.mkdtemp()) / "sample.pdf"
        sample.main([str(pdf)])
    for path in take(args.out, pdf):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
