"""Errors with a one-line reason meant for the person who supplied the input."""


class GongkaiError(Exception):
    """Base class; ``str(err)`` is a one-line reason fit for a CLI or an API error body."""

    code = "error"


class InputError(GongkaiError):
    code = "bad_input"


class UnsupportedTypeError(InputError):
    code = "unsupported_type"


class CorruptDocumentError(InputError):
    code = "corrupt"


class EncryptedDocumentError(InputError):
    code = "encrypted"


class EmptyDocumentError(InputError):
    code = "empty"


class TooLargeError(InputError):
    code = "too_large"


class NotAReportError(InputError):
    code = "not_a_report"


class NeedsOcrError(InputError):
    code = "needs_ocr"


class ScanWithoutTextError(InputError):
    """OCR ran and found no readable text at all: a blank or unreadable scan."""

    code = "no_text"
