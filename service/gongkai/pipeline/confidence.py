"""A cell's confidence: every factor it is built from, named, and the arithmetic that combines them.

A cell's confidence is label match × reading × checks (README, "What `confidence` means"):

- label match: how surely the row and column labels named the cell (``LABEL_*``), set by the
  mapping stage;
- reading: 1.0 for a text layer; for OCR the recogniser's probability of the chosen string, moved by
  a second engine's opinion (``second_opinion_*``), or, for a repaired cell, how decisively the
  identities chose the repair (``repaired_confidence``);
- checks: lowered when the text is not a number, when an identity the cell takes part in fails, and
  for an inferred total (``cell_confidence``).

The stages import these names; no other module multiplies a confidence by a bare number.
"""

from __future__ import annotations

import math

# ------------------------------------------------------------------------------------------------
# label match (mapping.py, legacy.py)
# ------------------------------------------------------------------------------------------------

LABEL_EXACT = 1.0  # the official label, as printed
LABEL_VARIANT = 0.98  # a known variant of it, or the label inside a longer printed one
# Only a distinctive key word of the label is printed: a shade below a variant, so that a variant
# wins when both name a candidate.
LABEL_KEY = LABEL_VARIANT * 0.99
LABEL_ORDINAL = 0.9  # a damaged label, known by its ordinal inside its group
LABEL_FUZZY = 0.85  # a near miss (OCR, typos)
LABEL_BY_POSITION = 0.7  # a column or row known by its position only (header lost or unreadable)
# A row matched by its own words while its group label could not be read at all.
LABEL_UNREAD_GROUP = 0.9
# The row's words, but printed under another group (3.其他 under （六）only): a poor candidate.
LABEL_OTHER_GROUP = 0.5

# ------------------------------------------------------------------------------------------------
# reading
# ------------------------------------------------------------------------------------------------

TEXT_LAYER_READING = 1.0  # a text layer, HTML or DOCX: what is printed is what is read
# A repaired cell is never as sure as a clean reading: the identities chose it, not the recogniser.
REPAIR_CEILING = 0.9

# ------------------------------------------------------------------------------------------------
# checks (extract.py, via cell_confidence)
# ------------------------------------------------------------------------------------------------

NOT_A_NUMBER = 0.3  # the text could not be read as a number
FAILING_IDENTITY = 0.5  # an identity the cell takes part in fails
INFERRED_TOTAL = 0.9  # a printed blank total whose value the checks inferred from its row
MISSING = 0.0  # the cell was not found

# ------------------------------------------------------------------------------------------------
# review
# ------------------------------------------------------------------------------------------------

# OCR readings below this probability are flagged for review even when their identities pass.
REVIEW_BELOW = 0.8


def repaired_confidence(margin: float) -> float:
    """A repaired cell's reading factor: ``REPAIR_CEILING × margin / (1 + margin)``, where margin
    is how much likelier the applied repair is than the runner-up (``inf``: the only one)."""
    share = 1.0 if math.isinf(margin) else margin / (1.0 + margin)
    return round(REPAIR_CEILING * share, 4)


def second_opinion_agreed(p1: float, p2: float) -> float:
    """Both engines read the same text: the geometric mean of their probabilities, never lower
    than the first reader's. Not ``1 - (1-p1)(1-p2)``: both read the same blurred pixels, and on
    heavy blur they agree on the same wrong digit, so agreement raises a cell only part of the way."""
    return round(max(p1, math.sqrt(p1 * p2)), 4)


def second_opinion_disagreed(p1: float, p2: float) -> float:
    """The second engine reads something else: lowered by how sure it is of its own reading."""
    return round(p1 * (1.0 - p2), 4)


def second_opinion_candidate(p1: float, p2: float) -> float:
    """The probability the second engine's differing reading joins the candidates with: its own,
    discounted by how sure the first reader was of its reading."""
    return p2 * (1.0 - p1)


def cell_confidence(
    match: float,
    reading: float,
    *,
    not_a_number: bool = False,
    failing_identity: bool = False,
    inferred: bool = False,
) -> float:
    """A found cell's confidence in the result: label match × reading × the checks' factors,
    capped at 1 and rounded to 4 places. (A missing cell has ``MISSING``.)"""
    confidence = match * reading
    # The order of the products is kept as it always was, so results stay bit-for-bit the same.
    if not_a_number:
        confidence *= NOT_A_NUMBER
    if failing_identity:
        confidence *= FAILING_IDENTITY
    if inferred:
        confidence *= INFERRED_TOTAL
    return round(min(1.0, confidence), 4)
