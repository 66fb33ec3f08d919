"""The layout model's verdict on a document's band lines, left until every page is read
(``ocr_page(defer_layout=True)`` and ``settle_running_lines``), on hand-made OCR pages."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("cv2", reason="the OCR extra (gongkai[ocr]) is not installed")

from gongkai.pipeline.datamodel import (
    BlockType,
    Document,
    Layout,
    Page,
    SourceInfo,
    TextBlock,
    TextSource,
    text_block,
)
from gongkai.pipeline.layout import analyze, repeated_margin_texts
from gongkai.pipeline.ocr.page import PageDiagnostics, PendingLayout, settle_running_lines

# A4 at 200 dpi: pixels, and PDF points per pixel.
W, H = 1654, 2339
PT = 72 / 200
HEAD = "某某区人民政府2023年政府信息公开工作年度报告"


def _page(number: int, lines: list[tuple[str, float]]) -> tuple[Page, PageDiagnostics]:
    """An OCR page whose lines sit at the given heights (fractions of the page); every line in
    the running bands is left for the layout model, as ``ocr_page(defer_layout=True)`` leaves it."""
    blocks, band = [], []
    for text, y in lines:
        box = (200.0, y * H, 1400.0, y * H + 40)
        block = text_block(text, tuple(v * PT for v in box), BlockType.LINE)  # type: ignore[arg-type]
        blocks.append(block)
        if y < 0.12 or y > 0.86:
            band.append((block, box))
    page = Page(number, W * PT, H * PT, TextSource.OCR, blocks, [], ocr_dpi=200.0)
    diag = PageDiagnostics(200.0, 0, 0.0, 0, False)
    diag.pending_layout = PendingLayout(np.zeros((800, 608, 3), np.uint8), (W, H), PT, band)
    return page, diag


def _header_at_top(wait: PendingLayout) -> Layout:
    """What the model says of a page: one header region over the top tenth."""
    return [TextBlock(0, 0, wait.size[0], 0.1 * wait.size[1], type="header", score=0.9)]


def test_pages_whose_band_lines_are_running_heads_or_page_numbers_need_no_model() -> None:
    results = [_page(n, [(HEAD, 0.05), ("正文", 0.5), (f"- {n} -", 0.95)]) for n in (1, 2, 3)]
    asked: list[PendingLayout] = []
    read = settle_running_lines(results, lambda waiting: asked.extend(waiting) or [])
    assert read == 0 and asked == []
    assert all(d.pending_layout is None for _, d in results)  # the model inputs are let go
    # The layout stage drops the heads and numbers all the same.
    doc = Document(SourceInfo("scan.pdf", "0" * 64, "application/pdf", 3), [p for p, _ in results])
    assert "".join(e.text for e in analyze(doc).elements) == "正文" * 3


def test_only_the_page_with_a_line_the_model_could_retype_is_read() -> None:
    results = [
        _page(1, [(HEAD, 0.05), ("正文", 0.5)]),
        _page(2, [(HEAD, 0.05), ("五、存在的主要问题及改进情况", 0.105), ("正文", 0.5)]),
    ]
    asked: list[PendingLayout] = []

    def run(waiting: list[PendingLayout]) -> list[Layout]:
        asked.extend(waiting)
        return [_header_at_top(w) for w in waiting]

    assert settle_running_lines(results, run) == 1
    (second, _), (first, _) = results[1], results[0]
    assert len(asked) == 1 and [b.text for b, _ in asked[0].band_lines][1].startswith("五、")
    # The model's verdict, as ocr_page gives it when the model runs on the page itself: the head
    # in the header region is a header, the heading below the region stays a line.
    assert [b.type for b in second.blocks] == ["header", "line", "line"]
    assert [b.type for b in first.blocks] == ["line", "line"]  # not read: furniture by repetition
    assert second.regions and second.regions[0].coordinates[3] == pytest.approx(0.1 * H * PT)


def test_repetition_counts_typed_heads_so_skipped_pages_stay_right() -> None:
    # Page 1's head typed by the model and page 2's left a line: the text still recurs, so the
    # line of the page the model did not read is furniture, as it would be had the model read it.
    (p1, _), (p2, _) = _page(1, [(HEAD, 0.05), ("正文", 0.5)]), _page(2, [(HEAD, 0.05), ("正文", 0.5)])
    p1.blocks[0].type = str(BlockType.HEADER)
    assert repeated_margin_texts([p1, p2])
    doc = Document(SourceInfo("scan.pdf", "0" * 64, "application/pdf", 2), [p1, p2])
    assert "".join(e.text for e in analyze(doc).elements) == "正文" * 2


def test_a_single_line_in_the_band_on_one_page_is_not_a_running_head() -> None:
    results = [_page(1, [("附件：某某表", 0.05), ("正文", 0.5)]), _page(2, [("正文", 0.5)])]
    read = settle_running_lines(results, lambda waiting: [[] for _ in waiting])
    assert read == 1  # page 2 has nothing waiting: no band line
    assert results[0][0].blocks[0].type == "line"  # the model found no header: it stays text
