"""Where a CJK font that came with the install lives (no system font package needed).

The ``paperang-p2-fonts-cjk`` wheel (in the ``corpus`` and ``service`` extras) carries WenQuanYi
Micro Hei (Apache-2.0 / GPLv3 with the font exception). It is found by path: the wheel has no code.
"""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path


def packaged_cjk_font() -> Path | None:
    spec = importlib.util.find_spec("paperang_p2_fonts_cjk")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / "fonts" / "wqy-microhei.ttc"
        if path.is_file():
            return path
    return None


# Tables a browser does not need and its font sanitiser (OTS) may refuse: FontForge's timestamp
# (misaligned in this collection) and a signature that no longer matches once the file is rewritten.
_DROPPED_TABLES = {b"FFTM", b"DSIG"}


def first_face_as_sfnt(collection: bytes) -> bytes:
    """The first face of a TrueType collection (.ttc) as a standalone font file (.ttf).

    Browsers do not load collections through @font-face; each face is a table directory inside
    the collection whose table offsets count from the start of the whole file. The face is copied
    out with its tables 4-byte aligned, as the OpenType format asks.
    """
    if collection[:4] != b"ttcf":
        return collection  # already a single face
    (first,) = struct.unpack_from(">I", collection, 12)
    version, num_tables = struct.unpack_from(">IH", collection, first)
    records = []
    for i in range(num_tables):
        tag, checksum, offset, length = struct.unpack_from(">4sIII", collection, first + 12 + 16 * i)
        if tag not in _DROPPED_TABLES:
            records.append((tag, checksum, collection[offset : offset + length]))
    records.sort(key=lambda r: r[0])  # the directory is sorted by tag
    n = len(records)
    power = 1 << (n.bit_length() - 1)
    header = struct.pack(">IHHHH", version, n, power * 16, power.bit_length() - 1, n * 16 - power * 16)
    offset = 12 + 16 * n
    directory, bodies = [], []
    for tag, checksum, body in records:
        directory.append(struct.pack(">4sIII", tag, checksum, offset, len(body)))
        padded = body + b"\0" * (-len(body) % 4)
        bodies.append(padded)
        offset += len(padded)
    return header + b"".join(directory) + b"".join(bodies)
