"""PDF: the text layer of every page, read with pypdf (pure Python, no OCR).

Pages are joined with ``\\n``. A page without text is noted; a PDF without any text (a scan) is
refused, as is one encrypted with a password (an owner password only, with an empty user
password, is read as usual).
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

from briefqa.reading.formats.common import TranscriptError

from .common import ContainerText, iso_date, normalise_newlines
from .decoding import EMPTY

ENCODING = "pdf text layer"
# pypdf logs a warning for each sloppiness it reads past (a wrong xref offset, ...): not the
# reader's business, and it would print amid briefqa's output.
logging.getLogger("pypdf").setLevel(logging.ERROR)
_PDF_DATE = re.compile(r"(?:D:)?(\d{4})(\d{2})(\d{2})")
_UNREADABLE = "not a readable PDF ({}); open and save it again, or export the transcript as text"


def _pages_note(pages: list[int]) -> str:
    """'page 3 has no text layer' / 'pages 1, 4-6 have no text layer' (1-based)."""
    runs: list[list[int]] = []
    for page in pages:
        if runs and page == runs[-1][-1] + 1:
            runs[-1].append(page)
        else:
            runs.append([page])
    spans = ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)
    return f"page {spans} has no text layer" if len(pages) == 1 else f"pages {spans} have no text layer"


def _metadata(reader: PdfReader) -> dict[str, str]:
    metadata: dict[str, str] = {}
    try:
        info = reader.metadata
    except (PyPdfError, ValueError, TypeError, KeyError):
        return metadata
    if not info:
        return metadata
    title = info.get("/Title")
    if isinstance(title, str) and title.strip():
        metadata["title"] = " ".join(title.split())
    created = info.get("/CreationDate")
    match = _PDF_DATE.match(created.strip()) if isinstance(created, str) else None
    if match:
        day = iso_date(f"{match[1]}-{match[2]}-{match[3]}")
        if day:
            metadata["date"] = day
    return metadata


def read_pdf(path: Path, data: bytes) -> ContainerText:
    if not data.strip():
        raise TranscriptError(path, EMPTY)
    if b"%PDF-" not in data[:1024]:
        raise TranscriptError(path, "not a PDF (no %PDF- header); give the file the suffix of what it holds")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError:
                raise TranscriptError(
                    path,
                    "an AES-encrypted PDF: reading it needs the 'cryptography' package "
                    "(pip install cryptography), or save a decrypted copy (qpdf --decrypt in.pdf out.pdf)",
                ) from None
            if not opened:
                raise TranscriptError(
                    path,
                    "an encrypted PDF that needs a password; save a copy without one "
                    "(qpdf --decrypt --password=... in.pdf out.pdf) and read that",
                )
        texts = [normalise_newlines(page.extract_text() or "") for page in reader.pages]
    except TranscriptError:
        raise
    except FileNotDecryptedError:
        raise TranscriptError(path, "an encrypted PDF that needs a password; save a copy without one") from None
    except (PyPdfError, ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError) as err:
        raise TranscriptError(path, _UNREADABLE.format(str(err)[:120] or type(err).__name__)) from None
    if not texts:
        raise TranscriptError(path, "a PDF with no pages; remove it")
    empty = [number for number, text in enumerate(texts, start=1) if not text.strip()]
    if len(empty) == len(texts):
        raise TranscriptError(
            path,
            "this PDF has no text layer on any page (a scanned image?); run OCR first, "
            "e.g. ocrmypdf in.pdf out.pdf, and read the result",
        )
    notes = [f"{len(texts)} page{'s' if len(texts) > 1 else ''}"]
    if empty:
        notes.append(_pages_note(empty))
    return ContainerText("\n".join(texts), "pdf", ENCODING, _metadata(reader), notes)
