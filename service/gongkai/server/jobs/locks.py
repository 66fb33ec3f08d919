"""Process-wide locks shared by the API and in-process (thread) workers."""

from __future__ import annotations

import threading

# PDFium is not thread-safe: every PDFium call in one process goes through this lock.
PDFIUM_LOCK = threading.Lock()
