"""Every check of a report, in one package.

- ``model``: the ``Check`` record (``CheckKind``, ``CheckStatus``), ``soft_check`` and ``check_out``
  (a check as the result contract shows it);
- ``reconcile``: the format's identities over the mapped cells (``identity`` checks);
- ``legacy``: the sums a legacy statistics table implies (soft);
- ``sections``: the six section headings present and in order (soft);
- ``facts``: the narrative's figures against the tables (soft);
- ``soft``: other plausibility checks on one report (soft).
"""

from __future__ import annotations

from gongkai.pipeline.checks.model import Check, CheckKind, CheckStatus, Num, check_out, soft_check

__all__ = ["Check", "CheckKind", "CheckStatus", "Num", "check_out", "soft_check"]
