"""Write a synthetic corpus: realistic reports in every input kind, each with its exact truth file.

    gongkai corpus generate OUT_DIR --n 200 --seed 7 [--kinds pdf,scan_pdf,image,html,docx]
                                    [--formats 2021,2019,legacy] [--inject-errors 0.2]

Document i of a corpus depends only on (seed, i): its own `random.Random`, its own numpy generators
for scanning; so documents are identical whatever the number of workers, and a corpus can be
regenerated bit for bit. See corpora/synthetic/README.md for what varies and how truth is defined.
"""

from __future__ import annotations

import io
import itertools
import json
import multiprocessing
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from gongkai.devtools.corpora.synthetic import text as narrative
from gongkai.devtools.corpora.synthetic.camera import CameraOptions
from gongkai.devtools.corpora.synthetic.degrade import (
    ImageFormat,
    ScanOptions,
    encode_image,
    multipage_tiff,
    scan_pdf,
)
from gongkai.devtools.corpora.synthetic.fonts import available_families
from gongkai.devtools.corpora.synthetic.legacy import (
    build_legacy_report,
    legacy_paragraphs,
    render_legacy_docx,
    render_legacy_html,
    render_legacy_pdf,
)
from gongkai.devtools.corpora.synthetic.render_docx import render_docx
from gongkai.devtools.corpora.synthetic.render_html import render_html
from gongkai.devtools.corpora.synthetic.render_pdf import render_pdf
from gongkai.devtools.corpora.synthetic.spec import OTHER_TOTAL_ROW, RenderOptions, ReportSpec, SectionSpec
from gongkai.devtools.corpora.truth import InjectedError, InputKind, Truth, TruthParagraph
from gongkai.pipeline.schema import FormatId, ReportFormat, load_format

GENERATOR_VERSION = "1.0"
KINDS: tuple[InputKind, ...] = ("pdf", "scan_pdf", "image", "html", "docx")
FORMATS: tuple[FormatId, ...] = ("2021", "2019", "legacy")
EXTENSIONS: dict[str, str] = {"pdf": "pdf", "scan_pdf": "pdf", "image": "tif", "html": "html", "docx": "docx"}
YEARS: dict[str, tuple[int, int]] = {"2021": (2021, 2025), "2019": (2019, 2020), "legacy": (2008, 2018)}

# Our own list of places: (province, city, districts/counties). Public geography, freely combined.
REGIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("江苏省", "连云港市", ("海州区", "连云区", "赣榆区", "东海县", "灌云县")),
    ("江苏省", "淮安市", ("清江浦区", "淮安区", "洪泽区", "盱眙县", "金湖县")),
    ("浙江省", "丽水市", ("莲都区", "青田县", "缙云县", "遂昌县", "龙泉市")),
    ("安徽省", "六安市", ("金安区", "裕安区", "霍邱县", "舒城县", "金寨县")),
    ("福建省", "南平市", ("延平区", "建阳区", "顺昌县", "浦城县", "武夷山市")),
    ("山东省", "潍坊市", ("潍城区", "寒亭区", "坊子区", "临朐县", "昌乐县")),
    ("河南省", "洛阳市", ("老城区", "西工区", "涧西区", "孟津区", "新安县")),
    ("湖北省", "宜昌市", ("西陵区", "伍家岗区", "点军区", "远安县", "兴山县")),
    ("湖南省", "常德市", ("武陵区", "鼎城区", "安乡县", "汉寿县", "澧县")),
    ("四川省", "绵阳市", ("涪城区", "游仙区", "安州区", "三台县", "盐亭县")),
    ("甘肃省", "定西市", ("安定区", "通渭县", "陇西县", "渭源县", "临洮县")),
    ("广东省", "韶关市", ("武江区", "浈江区", "曲江区", "始兴县", "仁化县")),
    ("江西省", "赣州市", ("章贡区", "南康区", "赣县区", "信丰县", "大余县")),
    ("吉林省", "白山市", ("浑江区", "江源区", "抚松县", "靖宇县", "长白朝鲜族自治县")),
)
DEPARTMENTS = (
    "教育局",
    "财政局",
    "自然资源和规划局",
    "生态环境局",
    "住房和城乡建设局",
    "交通运输局",
    "农业农村局",
    "卫生健康委员会",
    "市场监督管理局",
    "人力资源和社会保障局",
    "民政局",
    "司法局",
    "应急管理局",
    "水利局",
    "商务局",
)


@dataclass(frozen=True)
class GenerateConfig:
    out_dir: Path
    n: int = 200
    seed: int = 7
    kinds: tuple[InputKind, ...] = KINDS
    formats: tuple[FormatId, ...] = FORMATS
    inject_errors: float = 0.0
    workers: int = 2
    dpi: int = 200  # scan resolution (fixtures use less)
    page_files: bool = False  # also write <id>.p<N>.png / .jpg for the image kind
    max_jpeg_quality: int | None = None  # cap the scanner's JPEG quality (small committed fixtures)
    camera: float = 0.0  # share of scan_pdf/image documents photographed instead of scanned

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError("--n must be at least 1")
        bad = [k for k in self.kinds if k not in KINDS]
        if bad or not self.kinds:
            raise ValueError(f"unknown kinds {bad}; choose from {', '.join(KINDS)}")
        badf = [f for f in self.formats if f not in FORMATS]
        if badf or not self.formats:
            raise ValueError(f"unknown formats {badf}; choose from {', '.join(FORMATS)}")
        if not 0.0 <= self.inject_errors <= 1.0:
            raise ValueError("--inject-errors is a fraction in [0, 1]")
        if not 0.0 <= self.camera <= 1.0:
            raise ValueError("--camera is a fraction in [0, 1]")


# ---------------------------------------------------------------- who publishes


@dataclass(frozen=True)
class Agency:
    name: str  # as in the title, e.g. 连云港市海州区人民政府
    short: str  # as sentences call it, e.g. 区政府
    region: str  # e.g. 海州区


def pick_agency(rng: random.Random) -> Agency:
    _province, city, districts = rng.choice(REGIONS)
    district = rng.choice(districts)
    level = district[-1]  # 区 / 县 / 市
    r = rng.random()
    if r < 0.45:
        name = rng.choice(
            [f"{city}{district}人民政府", f"{district}人民政府", f"{city}{district}人民政府办公室"]
        )
        return Agency(name, f"{level}政府" if level != "市" else "市政府", district)
    if r < 0.8:
        dept = rng.choice(DEPARTMENTS)
        return Agency(
            rng.choice([f"{city}{district}{dept}", f"{district}{dept}"]),
            "我局" if dept.endswith("局") else "我委",
            district,
        )
    if r < 0.92:
        dept = rng.choice(DEPARTMENTS)
        return Agency(f"{city}{dept}", "我局" if dept.endswith("局") else "我委", city)
    town = rng.choice(["城关镇", "新集镇", "东湖街道", "白塔乡", "龙山镇"])
    return Agency(f"{district}{town}人民政府", "镇政府" if town.endswith("镇") else "街道办事处", district)


# ---------------------------------------------------------------- numbers


def _size(rng: random.Random) -> int:
    """How many requests an agency gets: mostly few, sometimes thousands, rarely 10^5."""
    r = rng.random()
    if r < 0.12:
        return 0
    if r < 0.7:
        return rng.randint(1, 40)
    if r < 0.93:
        return rng.randint(40, 3000)
    return rng.randint(3000, 200_000)


def _split(rng: random.Random, total: int, weights: Sequence[float], sparsity: float = 0.5) -> list[int]:
    """`total` split over len(weights) parts; parts beyond the first are often zero."""
    w = [x * rng.random() for x in weights]
    for i in range(1, len(w)):
        if rng.random() < sparsity:
            w[i] = 0.0
    s = sum(w)
    if s == 0:
        w, s = [1.0] + [0.0] * (len(w) - 1), 1.0
    parts = [int(total * x / s) for x in w]
    parts[0] += total - sum(parts)
    return parts


def _big(rng: random.Random, small: int, big: int, p_zero: float = 0.3) -> int:
    r = rng.random()
    if r < p_zero:
        return 0
    if r < 0.9:
        return rng.randint(1, small)
    return rng.randint(small, big)


def _money(rng: random.Random) -> Decimal:
    """An amount in 万元: often 0, otherwise two decimals, up to 10^7."""
    r = rng.random()
    if r < 0.45:
        return Decimal(0)
    cents = rng.randint(1, 10**5) if r < 0.85 else rng.randint(10**5, 10**9)
    return Decimal(cents) / 100


def table_values(rng: random.Random, fmt: ReportFormat) -> dict[str, int | Decimal]:
    """Every statutory cell of a 2021/2019 report, satisfying the format's identities."""
    v: dict[str, int | Decimal] = {}
    cols = [c.id for c in fmt.requests_columns if c.id != "total"]
    col_weights = [8.0, 2.0, 0.3, 0.4, 0.6, 0.8]
    results = [r.id for r in fmt.result_rows]
    # granted and partial carry most outcomes; the rest are sparse
    res_weights = [6.0 if r == "granted" else 2.0 if r == "partial" else 1.0 for r in results]
    new = _split(rng, _size(rng), col_weights)
    carried_in = _split(rng, _big(rng, 5, 300, p_zero=0.6), col_weights)
    for j, c in enumerate(cols):
        avail = new[j] + carried_in[j]
        out = 0 if rng.random() < 0.6 else rng.randint(0, avail // 4 + (1 if avail else 0))
        out = min(out, avail)
        done = avail - out
        parts = _split(rng, done, res_weights, sparsity=0.7)
        v[f"requests.new.{c}"], v[f"requests.carried_in.{c}"] = new[j], carried_in[j]
        v[f"requests.carried_out.{c}"], v[f"requests.results_total.{c}"] = out, done
        for r, part in zip(results, parts, strict=True):
            v[f"requests.{r}.{c}"] = part
    for row in fmt.requests_rows:
        v[f"requests.{row.id}.total"] = sum(int(v[f"requests.{row.id}.{c}"]) for c in cols)
    for g in fmt.appeals_groups:
        fields = [f.id for f in fmt.appeals_fields if f.id != "total"]
        counts = [0 if rng.random() < 0.6 else _big(rng, 5, 200, p_zero=0.3) for _ in fields]
        for f_id, n in zip(fields, counts, strict=True):
            v[f"appeals.{g.id}.{f_id}"] = n
        v[f"appeals.{g.id}.total"] = sum(counts)
    if fmt.id == "2021":
        v.update(
            {
                "active.regulations.issued": 0 if rng.random() < 0.85 else rng.randint(1, 5),
                "active.regulations.repealed": 0 if rng.random() < 0.9 else rng.randint(1, 3),
                "active.regulations.in_force": 0 if rng.random() < 0.7 else rng.randint(1, 200),
                "active.normative_docs.issued": _big(rng, 30, 300),
                "active.normative_docs.repealed": _big(rng, 10, 120, p_zero=0.5),
                "active.normative_docs.in_force": _big(rng, 200, 20000, p_zero=0.1),
                "active.licensing.decisions": _big(rng, 3000, 10**7),
                "active.punishment.decisions": _big(rng, 500, 10**6),
                "active.coercion.decisions": _big(rng, 50, 50000, p_zero=0.5),
                "active.fees.amount": _money(rng),
            }
        )
    else:
        p = "active2019"
        for item in ("regulations", "normative_docs"):
            made = _big(rng, 30, 400, p_zero=0.5 if item == "regulations" else 0.2)
            v[f"{p}.{item}.made"] = made
            v[f"{p}.{item}.published"] = made if rng.random() < 0.8 else rng.randint(0, made)
            v[f"{p}.{item}.total"] = made + _big(rng, 300, 20000, p_zero=0.1)
        for item in ("licensing", "other_services", "punishment", "coercion", "fees"):
            prev = _big(rng, 300, 5000, p_zero=0.2)
            v[f"{p}.{item}.prev"] = prev
            v[f"{p}.{item}.delta"] = 0 if rng.random() < 0.5 else rng.randint(-min(prev, 30), 30)
            if item != "fees":
                v[f"{p}.{item}.decisions"] = _big(rng, 3000, 10**7)
        v[f"{p}.procurement.items"] = _big(rng, 200, 5000)
        v[f"{p}.procurement.amount"] = _money(rng)
    missing = set(fmt.cells) - set(v)
    if missing:  # the schema grew a cell this generator does not know
        raise RuntimeError(f"generator lacks values for {sorted(missing)[:5]}")
    return v


def failing_identities(
    fmt: ReportFormat, values: dict[str, int | Decimal | None], extra: dict[str, int | Decimal | None]
) -> list[str]:
    """Ids of the format's identities the printed values violate (blank or absent counts as 0).

    A 2021 report printing （六）其他处理 as one row has requests.other.total.* in `extra`; the
    results_total identity then counts that row instead of the three absent item rows."""
    failing = []
    for identity in fmt.identities:
        lhs = sum((values.get(c) or 0 for c in identity.lhs), 0)
        rhs = sum((values.get(c) or 0 for c in identity.rhs), 0)
        if identity.family == "results_total":
            col = identity.id.split(":", 1)[1]
            rhs += extra.get(f"requests.{OTHER_TOTAL_ROW}.{col}") or 0
        if lhs != rhs:
            failing.append(identity.id)
    return failing


def _printed(value: int | Decimal, rng: random.Random, signed: bool = False) -> str:
    if isinstance(value, Decimal):
        if value == 0:
            return rng.choice(["0", "0", "0.00", "0.0"])
        return f"{value:.2f}"
    if signed and value > 0 and rng.random() < 0.15:
        return f"+{value}"
    return str(value)


def _as_number(text: str) -> int | Decimal:
    return Decimal(text) if "." in text else int(text)


# ---------------------------------------------------------------- one document


@dataclass
class Built:
    """A rendered document and its truth (before the kind-specific encoding)."""

    truth: Truth
    pdf: bytes | None  # the born-digital PDF (scans are made from it)
    html: bytes | None
    docx: bytes | None


def _render_options(rng: random.Random, fmt: ReportFormat, kind: str, title: str) -> RenderOptions:
    families = available_families()
    body = rng.choice(families)
    variants: dict[str, str] = {}
    labels = [*fmt.requests_columns, *fmt.requests_rows]
    for lab in labels:
        if lab.variants and rng.random() < 0.12:
            variants[lab.label] = rng.choice(lab.variants)
    if rng.random() < 0.15:
        variants["总计"] = rng.choice(["总 计", "总　计"])
    paged = kind in ("pdf", "scan_pdf", "image", "docx")
    return RenderOptions(
        label_variants=variants,
        requests_break_after_row=rng.randint(3, 20) if paged and rng.random() < 0.25 else None,
        appeals_header_data_split=paged and rng.random() < 0.1,
        other_single_row=fmt.id == "2021" and rng.random() < 0.15,
        page_header=title if rng.random() < 0.3 else None,
        page_number_format=rng.choice(["- {n} -", "- {n} -", "第{n}页", "{n}", None]),
        font_size=rng.choice([12.0, 13.0, 14.0, 14.0, 15.0, 16.0]),
        font=body,
        table_font=rng.choice([body, body, *families]),
        title_font=rng.choice([None, *families]),
        table_font_size=rng.choice([None, None, 8.0, 9.0, 10.0]),
        table_width=rng.choice([1.0, 1.0, 0.95, 0.9, 0.85]),
        landscape_tables=kind in ("pdf", "scan_pdf", "image") and rng.random() < 0.1,
    )


def _build_statutory(
    rng: random.Random, fmt_id: FormatId, year: int, agency: Agency, kind: str, inject: bool, doc_id: str
) -> Built:
    fmt = load_format(fmt_id)
    values = table_values(rng, fmt)
    title = f"{agency.name}{year}年政府信息公开工作年度报告"
    options = _render_options(rng, fmt, kind, title)

    printed: dict[str, str] = {}
    for cid, value in values.items():
        printed[cid] = _printed(value, rng, signed=cid.endswith(".delta"))
    # printed blanks: some zero cells of table 三 / 四 are left empty (truth null, listed in `blank`)
    blank: set[str] = set()
    if rng.random() < 0.2:
        p = rng.uniform(0.2, 0.9)
        for cid, value in values.items():
            if value == 0 and cid.startswith(("requests.", "appeals.")) and rng.random() < p:
                blank.add(cid)
                printed[cid] = ""

    cells: dict[str, int | Decimal | None] = {cid: _as_number(t) if t else None for cid, t in printed.items()}
    extra: dict[str, int | Decimal | None] = {}
    if options.other_single_row:
        other_ids = [r.id for r in fmt.requests_rows if r.id.startswith("other.")]
        for c in fmt.requests_columns:
            total = sum(int(values[f"requests.{r}.{c.id}"]) for r in other_ids)
            extra[f"requests.{OTHER_TOTAL_ROW}.{c.id}"] = total
            printed[f"requests.{OTHER_TOTAL_ROW}.{c.id}"] = str(total)
            for r in other_ids:  # not printed: null, and not blank
                cells[f"requests.{r}.{c.id}"] = None
                blank.discard(f"requests.{r}.{c.id}")
                printed.pop(f"requests.{r}.{c.id}", None)

    injected: list[InjectedError] = []
    expected: list[str] = []
    if inject:
        candidates = sorted(
            cid for cid in printed if cid.startswith(("requests.", "appeals.")) and printed[cid] != ""
        )
        cid = rng.choice(candidates)
        consistent = int(printed[cid])
        delta = rng.choice([1, 1, 2, 3, 5, 10, -1, -2])
        wrong = consistent + delta if consistent + delta >= 0 else consistent + abs(delta)
        printed[cid] = str(wrong)
        if cid in cells:
            cells[cid] = wrong
        else:
            extra[cid] = wrong
        injected.append(InjectedError(cell=cid, printed=wrong, consistent=consistent))
        expected = failing_identities(fmt, cells, extra)

    n_requests = values["requests.new.total"]
    facts = narrative.Facts(
        year=year,
        agency=agency.name,
        short=agency.short,
        region=agency.region,
        requests_new=int(n_requests),
        requests_carried_in=int(values["requests.carried_in.total"]),
        granted=int(values["requests.granted.total"]),
        partial=int(values["requests.partial.total"]),
        results_total=int(values["requests.results_total.total"]),
        carried_out=int(values["requests.carried_out.total"]),
        review_total=int(values["appeals.review.total"]),
        suits_total=int(values["appeals.suit_direct.total"]) + int(values["appeals.suit_after_review.total"]),
        normative_issued=int(
            values.get("active.normative_docs.issued", values.get("active2019.normative_docs.made", 0))
        ),
        fee_amount_yuan=None if rng.random() < 0.85 else Decimal(rng.randint(1, 200000)) / 100,
        extra={"npc_suggestions": rng.randint(0, 120), "cppcc_proposals": rng.randint(0, 150)},
    )
    pre = narrative.preamble(rng, facts)
    by_key: dict[str, list[narrative.Paragraph]] = {
        "overview": narrative.overview(rng, facts),
        "problems_improvements": narrative.problems_improvements(rng, facts),
        "other_matters": narrative.other_matters(rng, facts),
    }
    sections = []
    for s in fmt.sections:
        heading = s.official if rng.random() < 0.85 or not s.variants else rng.choice(s.variants)
        paras = by_key.get(s.key, [])
        sections.append(SectionSpec(s.key, f"{s.number}、{heading}", [p.text for p in paras]))
    spec = ReportSpec(
        format=fmt_id,  # type: ignore[arg-type]
        year=year,
        title=title,
        agency=agency.name,
        preamble=[p.text for p in pre],
        sections=sections,
        cells=printed,
        closing=narrative.closing(rng, facts),
    )

    ordered = [("preamble", p) for p in pre] + [(k, p) for k in by_key for p in by_key[k]]
    truth = Truth(
        document=f"{doc_id}.{EXTENSIONS[kind]}",
        kind=kind,  # type: ignore[arg-type]
        format=fmt_id,
        year=year,
        agency=agency.name,
        title=title,
        cells=cells,
        blank=sorted(blank),
        extra_cells=extra,
        injected_errors=injected,
        expected_failing_checks=expected,
        paragraphs=[TruthParagraph(section=k, label=p.final_label, text=p.text) for k, p in ordered],
    )
    _attach_sentences(truth, ordered)
    truth.render_options = _options_record(options)  # type: ignore[attr-defined]
    pdf = render_pdf(spec, options) if kind in ("pdf", "scan_pdf", "image") else None
    html = render_html(spec, options) if kind == "html" else None
    docx = render_docx(spec, options) if kind == "docx" else None
    return Built(truth, pdf, html, docx)


def _attach_sentences(truth: Truth, ordered: list[tuple[str, narrative.Paragraph]]) -> None:
    # per-sentence labels of mixed paragraphs (index into truth.paragraphs)
    truth.mixed_paragraphs = [  # type: ignore[attr-defined]
        {"index": i, "sentences": [{"text": s.text, "label": s.label} for s in p.sentences]}
        for i, (_, p) in enumerate(ordered)
        if p.mixed
    ]


def _options_record(options: RenderOptions) -> dict[str, Any]:
    return {
        "font": options.font,
        "table_font": options.table_font,
        "font_size": options.font_size,
        "label_variants": options.label_variants,
        "requests_break_after_row": options.requests_break_after_row,
        "appeals_header_data_split": options.appeals_header_data_split,
        "other_single_row": options.other_single_row,
        "landscape_tables": options.landscape_tables,
        "page_header": options.page_header is not None,
    }


def _build_legacy(rng: random.Random, year: int, agency: Agency, kind: str, doc_id: str) -> Built:
    report = build_legacy_report(rng, year, agency.name, agency.short, agency.region)
    report.font = rng.choice(available_families())
    report.font_size = rng.choice([12.0, 14.0, 15.0])
    ordered = legacy_paragraphs(report)
    truth = Truth(
        document=f"{doc_id}.{EXTENSIONS[kind]}",
        kind=kind,  # type: ignore[arg-type]
        format="legacy",
        year=year,
        agency=agency.name,
        title=report.title,
        cells=report.cells(),
        paragraphs=[TruthParagraph(section=k, label=p.final_label, text=p.text) for k, p in ordered],
        notes="legacy: cells keyed legacy.<indicator label as printed, whitespace removed>",
    )
    _attach_sentences(truth, ordered)
    header = report.title if rng.random() < 0.3 else None
    pdf = render_legacy_pdf(report, header) if kind in ("pdf", "scan_pdf", "image") else None
    html = render_legacy_html(report) if kind == "html" else None
    docx = render_legacy_docx(report) if kind == "docx" else None
    return Built(truth, pdf, html, docx)


def narrative_page_texts(pdf: bytes) -> list[str]:
    """Per page, the text outside ruled tables (pdfplumber on the born-digital PDF's text layer)."""
    import pdfplumber

    texts = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            boxes = [t.bbox for t in page.find_tables()]

            def outside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]] = boxes) -> bool:
                if obj.get("object_type") != "char":
                    return True
                cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
                return not any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)

            texts.append(page.filter(outside).extract_text() or "")
    return texts


def _scan_options(
    rng: random.Random, n_pages: int, agency: str, dpi: int, max_quality: int | None = None
) -> list[ScanOptions]:
    level = rng.choices(["clean", "typical", "heavy"], weights=[25, 60, 15])[0]
    opts = [
        replace(ScanOptions.random(rng, level), dpi=dpi, seal=False, seal_text=agency) for _ in range(n_pages)
    ]
    if rng.random() < 0.6:  # the seal over the signature on the last page
        opts[-1] = replace(opts[-1], seal=True, seal_place="signature")
    if n_pages > 1 and rng.random() < 0.3:  # and sometimes over a table's cells
        k = rng.randrange(0, n_pages - 1)
        opts[k] = replace(opts[k], seal=True, seal_place="table")
    if max_quality is not None:
        opts = [replace(o, jpeg_quality=min(o.jpeg_quality or 95, max_quality)) for o in opts]
    return opts


def _camera_options(rng: random.Random, opts: list[ScanOptions]) -> list[ScanOptions]:
    """The document photographed page by page: one kind of capture for the whole document."""
    kind = rng.choices(["phone", "mild"], weights=[75, 25])[0]
    return [
        replace(o, camera=CameraOptions.random(rng, kind), jpeg_quality=rng.choice([90, 85, 80, 70]))
        for o in opts
    ]


def doc_plan(config: GenerateConfig, index: int) -> tuple[InputKind, FormatId, random.Random]:
    """Kind and format of document `index`: every (kind, format) pair appears once per cycle."""
    combos = list(itertools.product(config.kinds, config.formats))
    random.Random(config.seed).shuffle(combos)
    kind, fmt = combos[index % len(combos)]
    return kind, fmt, random.Random(f"gongkai-synthetic:{config.seed}:{index}")


def make_document(
    config: GenerateConfig, index: int, kind_format: tuple[InputKind, FormatId] | None = None
) -> dict[str, Any]:
    """Render document `index`, write it and its truth into config.out_dir; return its manifest row.
    `kind_format` overrides the planned kind and format (used for the committed test fixtures)."""
    kind, fmt_id, rng = doc_plan(config, index)
    if kind_format is not None:
        kind, fmt_id = kind_format
    lo, hi = YEARS[fmt_id]
    year = rng.randint(lo, hi)
    agency = pick_agency(rng)
    doc_id = f"s{config.seed}-{index:04d}-{fmt_id}-{kind}"
    inject = fmt_id != "legacy" and rng.random() < config.inject_errors
    if fmt_id == "legacy":
        built = _build_legacy(rng, year, agency, kind, doc_id)
    else:
        built = _build_statutory(rng, fmt_id, year, agency, kind, inject, doc_id)
    out = config.out_dir
    truth = built.truth
    pages: int | None = None
    if kind == "pdf":
        assert built.pdf is not None
        (out / truth.document).write_bytes(built.pdf)
    elif kind == "html":
        assert built.html is not None
        (out / truth.document).write_bytes(built.html)
    elif kind == "docx":
        assert built.docx is not None
        (out / truth.document).write_bytes(built.docx)
    else:
        assert built.pdf is not None
        truth.page_texts = narrative_page_texts(built.pdf)
        pages = len(truth.page_texts)
        opts = _scan_options(rng, pages, agency.name, config.dpi, config.max_jpeg_quality)
        seed = rng.getrandbits(32)
        if config.camera > 0:
            # a generator of its own: corpora made without --camera stay bit for bit the same
            cam_rng = random.Random(f"gongkai-camera:{config.seed}:{index}")
            if cam_rng.random() < config.camera:
                opts = _camera_options(cam_rng, opts)
        truth.scan_options = [  # type: ignore[attr-defined]
            {
                k: getattr(o, k)
                for k in ("skew_deg", "rotate", "blur", "noise", "jpeg_quality", "grey_paper", "seal")
            }
            | ({"camera": o.camera.as_dict()} if o.camera is not None else {})
            for o in opts
        ]
        if kind == "scan_pdf":
            (out / truth.document).write_bytes(scan_pdf(built.pdf, opts, seed))
        else:
            (out / truth.document).write_bytes(multipage_tiff(built.pdf, opts, seed))
            if config.page_files:
                _write_page_files(out, doc_id, built.pdf, opts, seed)
    truth.save(out / f"{doc_id}.truth.json")
    return {
        "id": doc_id,
        "document": truth.document,
        "truth": f"{doc_id}.truth.json",
        "kind": kind,
        "format": fmt_id,
        "year": year,
        "pages": pages,
        "injected": bool(truth.injected_errors),
    }


def _write_page_files(out: Path, doc_id: str, pdf: bytes, opts: list[ScanOptions], seed: int) -> None:
    from gongkai.devtools.corpora.synthetic.degrade import degrade_pdf_pages

    for i, (img, o) in enumerate(degrade_pdf_pages(pdf, opts, seed), start=1):
        fmt: ImageFormat = "jpeg" if i % 2 == 0 else "png"  # both encodings appear
        (out / f"{doc_id}.p{i}.{'jpg' if fmt == 'jpeg' else 'png'}").write_bytes(encode_image(img, fmt, o))


def _worker(args: tuple[GenerateConfig, int]) -> dict[str, Any]:
    return make_document(*args)


def generate(config: GenerateConfig) -> dict[str, Any]:
    """Write the whole corpus and its manifest.json; returns the manifest."""
    config.out_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(config, i) for i in range(config.n)]
    if config.workers > 1 and config.n > 1:
        # spawn, not fork: forking a process that runs threads (a test session, a server) can
        # deadlock the children on a lock held at fork time
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(config.workers) as pool:
            rows = list(pool.imap(_worker, jobs, chunksize=1))
    else:
        rows = [_worker(j) for j in jobs]
    manifest = {
        "generator": "gongkai gongkai.devtools.corpora.synthetic",
        "version": GENERATOR_VERSION,
        "seed": config.seed,
        "n": config.n,
        "kinds": list(config.kinds),
        "formats": list(config.formats),
        "inject_errors": config.inject_errors,
        "dpi": config.dpi,
        "camera": config.camera,
        "fonts": list(available_families()),
        "counts": {
            "kind": dict(sorted(Counter(r["kind"] for r in rows).items())),
            "format": dict(sorted(Counter(r["format"] for r in rows).items())),
            "kind_format": dict(sorted(Counter(f"{r['kind']}/{r['format']}" for r in rows).items())),
            "injected": sum(r["injected"] for r in rows),
        },
        "documents": rows,
    }
    (config.out_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return manifest


# The committed samples in tests/fixtures/synthetic: one per kind, small
# (scans at 90 dpi, JPEG quality <= 30).
FIXTURE_SEED = 2025
FIXTURES: tuple[tuple[int, InputKind, FormatId], ...] = (
    (0, "pdf", "2021"),
    (1, "html", "2019"),
    (2, "docx", "2021"),
    (3, "scan_pdf", "2021"),
    (4, "image", "2019"),
    (5, "pdf", "legacy"),
)


def write_fixtures(out_dir: Path, dpi: int = 90) -> list[dict[str, Any]]:
    """(Re)write the committed fixture set; the same fonts give the same bytes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    config = GenerateConfig(
        out_dir=out_dir, n=len(FIXTURES), seed=FIXTURE_SEED, dpi=dpi, inject_errors=0.0, max_jpeg_quality=30
    )
    rows = [make_document(config, i, (kind, fmt)) for i, kind, fmt in FIXTURES]
    manifest = {
        "generator": "gongkai gongkai.devtools.corpora.synthetic (test fixtures: write_fixtures)",
        "version": GENERATOR_VERSION,
        "seed": FIXTURE_SEED,
        "dpi": dpi,
        "fonts": list(available_families()),
        "documents": rows,
    }
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return rows
