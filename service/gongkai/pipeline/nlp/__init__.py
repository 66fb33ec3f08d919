"""Chinese NLP for the narrative: segmentation (jieba in spaCy), sentences, the classifier, facts, metadata.

The heavy parts (jieba, spaCy, ONNX Runtime) load lazily and once; the pipeline calls the two
functions below, which degrade to "no facts" with a warning when the ``nlp`` extra is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gongkai.pipeline.checks.facts import fact_checks
from gongkai.pipeline.checks.model import Check
from gongkai.pipeline.checks.reconcile import CellState
from gongkai.pipeline.result import FactOut, MetadataOut


def facts_and_checks(
    paragraphs: Sequence[tuple[str, int | None]], cells: Mapping[str, CellState], warnings: list[str]
) -> tuple[list[FactOut], list[Check]]:
    """Facts stated in the narrative and their soft checks against the tables."""
    from gongkai.pipeline.nlp.segment import NlpUnavailable

    try:
        from gongkai.pipeline.nlp.facts import extract_facts

        facts = extract_facts(paragraphs)
    except (NlpUnavailable, ImportError) as exc:
        warnings.append(f"facts from the text were not extracted: {exc}")
        return [], []
    return facts, fact_checks(facts, cells)


def enrich_metadata(
    metadata: MetadataOut, paragraphs: Sequence[str], page_title: str | None = None
) -> MetadataOut:
    """Fill what the title block left open (region; title, agency and year when the document prints
    no title: then a web page's own title, the opening sentence, the signature)."""
    from gongkai.pipeline.nlp.metadata import extract_metadata

    found = extract_metadata(metadata.title, paragraphs, page_title)
    title = metadata.title or (found["title"] if isinstance(found["title"], str) else None)
    agency = metadata.agency or (found["agency"] if isinstance(found["agency"], str) else None)
    region = found["region"] if isinstance(found["region"], str) else None
    year = metadata.year or (found["year"] if isinstance(found["year"], int) else None)
    return metadata.model_copy(
        update={"title": title, "agency": agency, "region": metadata.region or region, "year": year}
    )
