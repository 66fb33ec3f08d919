"""Review: reviewers' corrections applied over the machine result, and its identities checked again.

- ``corrections``: a correction as typed data; a reviewer's cell value read for its cell's kind.
- ``served``: the served result (corrections applied and marked, identities re-checked), the check
  changes between two of them, the failing count.
- ``workflow``: the same on a database session; storage only keeps the rows and their JSON.
"""

from gongkai.server.review.corrections import (
    BadCorrection,
    CellChange,
    Correction,
    ParagraphChange,
    parse_cell_value,
    value_kind,
)
from gongkai.server.review.served import (
    CellMark,
    CheckChange,
    ParagraphMark,
    ServedResult,
    check_changes,
    failing_count,
    merge,
    paragraphs,
    recheck,
)
from gongkai.server.review.workflow import (
    correct_cell,
    correct_paragraph,
    machine_result,
    require_served_result,
    served_result,
)

__all__ = [
    "BadCorrection",
    "CellChange",
    "CellMark",
    "CheckChange",
    "Correction",
    "ParagraphChange",
    "ParagraphMark",
    "ServedResult",
    "check_changes",
    "correct_cell",
    "correct_paragraph",
    "failing_count",
    "machine_result",
    "merge",
    "paragraphs",
    "parse_cell_value",
    "recheck",
    "require_served_result",
    "served_result",
    "value_kind",
]
