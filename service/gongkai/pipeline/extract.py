"""The pipeline: ingest → layout → tables → schema mapping → reconcile → narrative → result.

Each stage is a module with typed inputs and outputs; this module only wires them together.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gongkai.errors import NeedsOcrError, NotAReportError, ScanWithoutTextError
from gongkai.pipeline import narrative, nlp
from gongkai.pipeline.checks.legacy import legacy_checks
from gongkai.pipeline.checks.model import check_out  # the server imports it from here too
from gongkai.pipeline.checks.reconcile import Reconciliation, reconcile
from gongkai.pipeline.checks.sections import section_checks
from gongkai.pipeline.checks.soft import regulations_at_county_level, year_consistency
from gongkai.pipeline.confidence import MISSING, cell_confidence
from gongkai.pipeline.datamodel import Document, Element, ElementKind, TextSource
from gongkai.pipeline.ingest import load_document, load_path
from gongkai.pipeline.labels import fold_width, normalize_label
from gongkai.pipeline.layout import analyze
from gongkai.pipeline.legacy import map_legacy
from gongkai.pipeline.mapping import MappingResult, map_active, map_appeals, map_requests
from gongkai.pipeline.repair import repair
from gongkai.pipeline.result import CellOut, ExtractionResult, MetadataOut, PageOut, SourceOut
from gongkai.pipeline.schema import FORMATS, FormatId, format_for_year, load_format
from gongkai.pipeline.tables import classify_tables, join_page_breaks
from gongkai.pipeline.text_tables import recover_text_tables
from gongkai.settings import PipelineOptions

_YEAR = re.compile(r"(20[0-4]\d|199\d)\s*年度?")


@dataclass
class FormatDecision:
    format: FormatId
    year: int | None
    reason: str
    warnings: list[str]


def extract_path(
    path: str | Path, *, max_bytes: int | None = None, options: PipelineOptions | None = None
) -> ExtractionResult:
    """Extract one report file. ``options`` (default: from the environment, built once here) say how
    to read it; ``max_bytes``, when given, overrides ``options.max_bytes``."""
    options = options or PipelineOptions()
    return extract_document(load_path(path, max_bytes=max_bytes, options=options), options)


def extract_bytes(
    data: bytes, filename: str, *, max_bytes: int | None = None, options: PipelineOptions | None = None
) -> ExtractionResult:
    """Extract one report given as bytes; ``options`` and ``max_bytes`` as for ``extract_path``."""
    options = options or PipelineOptions()
    return extract_document(load_document(data, filename, max_bytes=max_bytes, options=options), options)


def extract_document(doc: Document, options: PipelineOptions | None = None) -> ExtractionResult:
    options = options or PipelineOptions()
    layout = analyze(doc)
    elements = recover_text_tables(join_page_breaks(layout.elements))
    warnings = list(doc.warnings)
    ocr_pages = [p.number for p in doc.pages if p.needs_ocr]
    if ocr_pages:
        warnings.append(
            f"pages {', '.join(map(str, ocr_pages))} have no usable text layer "
            f"and need OCR, {_ocr_missing(options)}"
        )
    tables = classify_tables(elements)
    title = next((e.text for e in elements if e.kind == ElementKind.TITLE), None)
    # OCR ran on every page (none is left waiting for it) and found nothing at all.
    if (
        not ocr_pages
        and all(p.text_source == TextSource.OCR for p in doc.pages)
        and not any(e.text.strip() or e.table is not None for e in elements)
    ):
        raise ScanWithoutTextError(f"OCR found no readable text in the scan ({len(doc.pages)} pages)")
    _require_report(elements, tables, title, ocr_pages, len(doc.pages), _ocr_missing(options))

    decision = detect_format(elements, title)
    warnings += decision.warnings
    fmt = load_format(decision.format)
    mapping = MappingResult()
    if fmt.has_statutory_tables:
        map_active([e.table for e, kind in tables if kind == "active" and e.table], fmt, mapping)
        for e, kind in tables:
            if kind == "requests" and e.table is not None:
                map_requests(e.table, fmt, mapping)
            elif kind == "appeals" and e.table is not None:
                map_appeals(e.table, fmt, mapping)
    legacy_rows = map_legacy([e.table for e, _ in tables if e.table], mapping) if fmt.id == "legacy" else []
    warnings += mapping.warnings
    rec = reconcile(fmt, mapping)
    repaired = repair(fmt, mapping, rec)
    if repaired.repairs:
        # The identities again, on the mapping with the repaired readings in place.
        rec = reconcile(fmt, mapping.with_readings(repaired.readings))
    warnings += [
        f"repaired {r.cell_id}: OCR read {r.old!r}, the identities give {r.new!r} ({r.check_id})"
        for r in repaired.repairs
    ] + repaired.warnings
    rec.checks.extend(legacy_checks(legacy_rows, rec.cells))
    warnings += rec.warnings
    sections = narrative.build_sections(elements, fmt, warnings, models_dir=options.models_dir)
    soft = section_checks(sections, fmt)
    missing = [cid for cid, st in rec.cells.items() if st.missing and st.statutory]
    if fmt.has_statutory_tables and missing:
        warnings.append(f"{len(missing)} statutory cells were not found in the document")
    metadata = _metadata(title, decision.year, elements)
    metadata = nlp.enrich_metadata(
        metadata, [e.text for e in elements if e.kind == ElementKind.PARAGRAPH], doc.page_title
    )
    facts, fact_checks = nlp.facts_and_checks(narrative.narrative_paragraphs(sections), rec.cells, warnings)
    soft += fact_checks
    soft += year_consistency(decision.year, elements)
    soft += regulations_at_county_level(metadata.agency, fmt, rec.cells)
    return ExtractionResult(
        source=SourceOut(
            filename=doc.source.filename,
            sha256=doc.source.sha256,
            media_type=doc.source.media_type,
            pages=len(doc.pages),
        ),
        format=fmt.id,
        metadata=metadata,
        pages=[
            PageOut(
                number=p.number,
                width=p.width,
                height=p.height,
                text_source=p.text_source.value,
                ocr_dpi=p.ocr_dpi,
            )
            for p in doc.pages
        ],
        cells=_cells_out(rec, repaired.review),
        sections=sections,
        facts=facts,
        checks=[check_out(c) for c in [*rec.checks, *soft]],
        warnings=warnings,
    )


def _ocr_missing(options: PipelineOptions) -> str:
    """Why pages that need OCR were not read: the options switched it off, the chosen engine misses a
    model file (said which), or OCR is not installed."""
    if not options.ocr:
        return "which is switched off (GONGKAI_OCR=0 or --no-ocr)"
    from gongkai.pipeline.ocr.models import OcrUnavailableError, ocr_model_files

    try:
        ocr_model_files(options.ocr_engine)
    except OcrUnavailableError as e:
        return f"which cannot run: {e}"
    return "which is not installed"


def _require_report(
    elements: list[Element],
    tables: list[tuple[Element, str | None]],
    title: str | None,
    ocr_pages: list[int],
    n_pages: int,
    ocr_missing: str = "which is not installed",
) -> None:
    """Refuse documents that are not disclosure annual reports, with the reason."""
    if ocr_pages and len(ocr_pages) == n_pages:
        raise NeedsOcrError(
            "the document has no usable text layer (a scan or an image-only PDF); "
            f"it needs OCR, {ocr_missing}"
        )
    headings = {e.section_key for e in elements if e.kind == ElementKind.HEADING}
    statutory_tables = {kind for _, kind in tables if kind in ("active", "requests", "appeals")}
    text = normalize_label("".join(e.text for e in elements[:40]))
    names_report = "政府信息公开" in text and ("年度报告" in text or "年报" in text)
    if len(statutory_tables) >= 2 or (names_report and len(headings) >= 2) or len(headings) >= 4:
        return
    raise NotAReportError(
        "not a government information disclosure annual report "
        f"(found {len(headings)} of the six section headings and {len(statutory_tables)} statutory tables)"
    )


def detect_format(elements: list[Element], title: str | None) -> FormatDecision:
    """The template generation from table markers (strong evidence) and the report year."""
    year = None
    for text in [title or "", *(e.text for e in elements[:6] if e.kind != ElementKind.TABLE)]:
        m = _YEAR.search(fold_width(text))
        if m:
            year = int(m.group(1))
            break
    corpus = normalize_label(
        "".join(c.text for e in elements if e.table is not None for c in e.table.cells)
        + "".join(e.text for e in elements)
    )
    scores: dict[FormatId, int] = {}
    for fid in FORMATS:
        fmt = load_format(fid)
        hits = sum(normalize_label(m) in corpus for m in fmt.strong_markers)
        against = sum(normalize_label(m) in corpus for m in fmt.absent_markers)
        scores[fid] = hits - against
    by_markers: FormatId = max(FORMATS, key=lambda f: scores[f])
    by_year = format_for_year(year)
    warnings: list[str] = []
    if scores[by_markers] >= 2:
        chosen, reason = by_markers, f"table markers ({scores[by_markers]})"
        if by_year is not None and by_year != chosen:
            warnings.append(
                f"format_mismatch: the {year} report uses the {chosen} template, not the {by_year} one"
            )
    elif by_year is not None:
        chosen, reason = by_year, f"report year {year}"
    else:
        chosen, reason = "2021", "no markers or year; assumed the current format"
        warnings.append("report format could not be determined; assumed 2021")
    return FormatDecision(chosen, year, reason, warnings)


def _metadata(title: str | None, year: int | None, elements: list[Element]) -> MetadataOut:
    agency = None
    if title:
        t = re.sub(r"\s+", "", title)
        m = re.match(r"^(.*?)(?:20\d\d|19\d\d)年度?", t)
        if m and m.group(1):
            agency = m.group(1)
    return MetadataOut(
        title=re.sub(r"\s+(?=\d)|(?<=\d)\s+", "", title) if title else None, agency=agency, year=year
    )


def _cells_out(rec: Reconciliation, review: Mapping[str, str]) -> dict[str, CellOut]:
    """The cells as the result contract shows them; ``review`` maps the cells the repair stage could
    not settle to the reason."""
    out: dict[str, CellOut] = {}
    for cid, st in rec.cells.items():
        r = st.reading
        confidence = MISSING
        if r is not None and not st.missing:
            confidence = cell_confidence(
                r.match,
                r.ocr_confidence,
                not_a_number=bool(st.error),
                failing_identity=bool(st.failing_checks),
                inferred=st.inferred,
            )
        out[cid] = CellOut(
            # A printed blank stays null even when its total is inferred: the inference is
            # reported beside it, never in place of what was printed.
            value=None if st.blank else st.value,
            inferred_value=st.value if st.inferred else None,
            raw=r.raw if r else None,
            confidence=confidence,
            page=r.page if r else None,
            bbox=[round(v, 2) for v in r.bbox] if r and r.bbox else None,
            source=r.source.value if r else None,
            blank=st.blank,
            note=r.parsed.note if r else None,
            inferred=st.inferred,
            repaired_by=r.repaired_by if r else None,
            missing=st.missing,
            statutory=st.statutory,
            review=cid in review,
            review_reason=review.get(cid),
        )
    return out
