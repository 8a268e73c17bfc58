"""Uploaded PDFs: check that a file really is one, give it a safe name, and make a copy
without its document metadata for blind review.

Everything here works on bytes and strings only; the callers decide what to say and store.
"""

from __future__ import annotations

import binascii
import contextlib
import logging
import math
import multiprocessing
import re
import resource
import struct
import traceback
import unicodedata
import zlib
from collections import deque
from collections.abc import Callable
from enum import StrEnum
from io import BytesIO
from multiprocessing.connection import Connection
from typing import Any, TypeVar, cast

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
)

_T = TypeVar("_T")

# What a broken or hostile file can make pypdf raise while it parses. pypdf answers most
# malformed input with its own errors, but a damaged object graph can still surface as a plain
# ValueError, KeyError, TypeError, ... from inside the library. These are caught only around
# calls that read untrusted bytes, so a mistake in our own code is not hidden by them.
PARSE_ERRORS: tuple[type[BaseException], ...] = (
    PyPdfError,
    ValueError,  # includes UnicodeDecodeError
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    AssertionError,
    LookupError,
    ArithmeticError,  # includes OverflowError, ZeroDivisionError
    RecursionError,
    OSError,
    EOFError,
    struct.error,
    zlib.error,
    binascii.Error,
)

# Parsing runs in a fresh process forked from a small server that has only this module
# loaded: no database connections, threads or request state are copied into it.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload([__name__])
MAX_MEMORY_BYTES = 2 * 1024**3

NEUTRAL_STEM = "document"
# Bytes of UTF-8, so the name fits every file system (255 bytes) with room to spare.
MAX_STEM_BYTES = 150

_HEADER = re.compile(rb"%PDF-[12]\.\d")
_SEPARATORS = re.compile(r"[/\\]")
# Reserved in file names on Windows (slashes are handled as separators before).
_RESERVED = frozenset('<>:"|?*')
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)
# Joiners shape Persian, Arabic and Indic words; every other format character (bidi
# overrides and isolates, marks, zero-width spaces, BOM, soft hyphen) is dropped.
_KEPT_FORMAT = frozenset("\u200c\u200d")
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")

# Keys whose values tell who made a document, found in any dictionary of the file: XMP
# metadata streams (on the catalogue, pages, images, fonts) and applications' private data.
_IDENTIFYING_KEYS = ("/Metadata", "/PieceInfo")
# Markup annotations (comments, highlights, stamps, ...) carry their author in /T; widgets
# (form fields) use /T for the field name, so they keep it.
_MARKUP_ANNOTATIONS = frozenset(
    {
        "/Text",
        "/FreeText",
        "/Line",
        "/Square",
        "/Circle",
        "/Polygon",
        "/PolyLine",
        "/Highlight",
        "/Underline",
        "/Squiggly",
        "/StrikeOut",
        "/Stamp",
        "/Caret",
        "/Ink",
        "/Popup",
        "/FileAttachment",
        "/Sound",
        "/Redact",
    }
)


class PdfProblem(StrEnum):
    """Why an upload is not accepted as a PDF."""

    NOT_PDF = "not_pdf"
    ENCRYPTED = "encrypted"
    NO_PAGES = "no_pages"
    TOO_MANY_PAGES = "too_many_pages"
    TOO_COMPLEX = "too_complex"


class PdfError(Exception):
    """A file could not be read as a PDF."""


class PdfTooComplex(PdfError):
    """Reading the file took more time or memory than allowed."""


def check_pdf(data: bytes, max_pages: int) -> PdfProblem | None:
    """None when ``data`` is a readable, unencrypted PDF of 1 to ``max_pages`` pages.

    The content decides: the file must begin with a PDF header, end with an end-of-file
    marker and parse, with its whole page tree, as a PDF; a copy for blind review must be
    possible too, so that a file accepted now can always be served later. A file that merely
    contains ``%PDF-`` somewhere (an HTML page, an archive) is refused. Run it through
    ``bounded`` on untrusted input.
    """
    if not _HEADER.match(data) or b"%%EOF" not in data[-2048:]:
        return PdfProblem.NOT_PDF
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted:
            return PdfProblem.ENCRYPTED
        # Walks the whole page tree (the /Count entry is not trusted).
        pages = len(reader.pages)
    except PARSE_ERRORS:
        return PdfProblem.NOT_PDF
    if pages == 0:
        return PdfProblem.NO_PAGES
    if pages > max_pages:
        return PdfProblem.TOO_MANY_PAGES
    try:
        without_metadata(data)
    except PdfError:
        return PdfProblem.NOT_PDF
    return None


def without_metadata(data: bytes) -> bytes:
    """A copy of the PDF without what names its makers: the document information (author,
    title, subject, creator, producer, keywords, dates), every XMP metadata stream,
    applications' private data and the authors of comments. Pages and forms stay as they are.

    Raises ``PdfError`` when the file cannot be read as a PDF. Run it through ``bounded``.
    """
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise PdfError("encrypted")
        _strip_identifying(reader.root_object)
        # pypdf's copy reads the trailer's /Size, which damaged files often lack; the
        # written file gets its own.
        reader.trailer.setdefault(NameObject("/Size"), NumberObject(2**31 - 1))
        # Only the catalogue and what it still reaches is copied: the removed streams, the
        # document information (the trailer's /Info), the file identifier and earlier
        # incremental revisions are left behind.
        writer = PdfWriter()
        writer.clone_reader_document_root(reader)
        writer.metadata = None
        writer.xmp_metadata = None
        out = BytesIO()
        writer.write(out)
    except PARSE_ERRORS as exc:
        raise PdfError(str(exc)) from exc
    return out.getvalue()


def bounded(
    func: Callable[..., _T], *args: Any, seconds: float, memory: int = MAX_MEMORY_BYTES
) -> _T:
    """Run ``func(*args)`` in a child process limited to ``seconds`` of CPU time (and twice
    that plus one second of waiting) and ``memory`` bytes of address space.

    A hostile file can make a parser work for a long time in a few megabytes; here it costs
    at most the limit, and the web worker stays responsive. Raises ``PdfTooComplex`` when a
    limit is reached, ``PdfError`` as ``func`` raised it; ``func`` and its result must be
    picklable.
    """
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(
        target=_run_limited, args=(sender, func, args, seconds, memory), daemon=True
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(2 * seconds + 1):
            raise PdfTooComplex(f"no answer within {2 * seconds + 1:g} s")
        kind, value = receiver.recv()
    except EOFError:  # killed by its CPU limit, or it died
        raise PdfTooComplex("the check stopped") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()
    if kind == "result":
        return cast(_T, value)
    if kind == "too_complex":
        raise PdfTooComplex(value)
    if kind == "pdf_error":
        raise PdfError(value)
    raise RuntimeError(f"the bounded call failed: {value}")


def _run_limited(
    sender: Connection, func: Callable[..., Any], args: tuple[Any, ...], seconds: float, memory: int
) -> None:
    """The child's side of ``bounded``."""
    cpu = max(1, math.ceil(seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    # Not every system limits address space (macOS may refuse); the CPU limit still holds.
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # pypdf logs every repair it makes; the parent says what matters.
    logging.disable(logging.CRITICAL)
    try:
        answer: tuple[str, Any] = ("result", func(*args))
    except MemoryError:
        answer = ("too_complex", "out of memory")
    except PdfError as exc:
        answer = ("pdf_error", str(exc))
    except Exception:  # a bug, not a bad file: the parent raises it with this traceback
        answer = ("crash", traceback.format_exc())
    sender.send(answer)
    sender.close()


def _strip_identifying(root: DictionaryObject) -> None:
    """Remove identifying entries from every dictionary reachable from the catalogue."""
    seen: set[tuple[int, int]] = set()
    queue: deque[PdfObject] = deque([root])
    while queue:
        item: PdfObject | None = queue.popleft()
        if isinstance(item, IndirectObject):
            ref = (item.idnum, item.generation)
            if ref in seen:
                continue
            seen.add(ref)
            item = item.get_object()
        if isinstance(item, DictionaryObject):  # streams are dictionaries too
            for key in _IDENTIFYING_KEYS:
                item.pop(key, None)
            if item.get("/Subtype") in _MARKUP_ANNOTATIONS and "/Rect" in item:
                item.pop("/T", None)
            queue.extend(item.values())
        elif isinstance(item, ArrayObject):
            queue.extend(item)


def safe_pdf_name(name: str | None, fallback: str = NEUTRAL_STEM) -> str:
    """A file name built from the stem of ``name``, safe to store, show and serve.

    Unicode-normalised (NFKC), without path parts, control or format characters (bidi
    overrides and isolates, zero-width marks), Windows-reserved characters or leading dots;
    letters of every script kept; at most ``MAX_STEM_BYTES`` of UTF-8 before an extension
    that is always ``.pdf``. ``fallback`` is the stem when nothing usable is left. Applying
    it to its own result changes nothing.
    """
    text = unicodedata.normalize("NFKC", name or "")
    text = _SEPARATORS.split(text)[-1]
    kept: list[str] = []
    for char in text:
        if char.isspace() or char in _RESERVED:
            kept.append(" ")
        elif char in _KEPT_FORMAT or unicodedata.category(char) not in _DROPPED_CATEGORIES:
            kept.append(char)
    stem = " ".join("".join(kept).split())
    # Whatever the extension was (.html, .exe, .pdf), the file is served as a PDF.
    stem = _trim(_EXTENSION.sub("", stem))
    if stem.split(".")[0].strip().upper() in _WINDOWS_DEVICES:
        stem = f"_{stem}"
    stem = _trim(stem.encode()[:MAX_STEM_BYTES].decode(errors="ignore"))
    return f"{stem or fallback}.pdf"


def ascii_pdf_name(name: str) -> str:
    """An ASCII-only form of a safe name, for clients that cannot read a UTF-8 file name."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    result = safe_pdf_name(folded)
    return result if any(char.isalnum() for char in result[:-4]) else f"{NEUTRAL_STEM}.pdf"


def _trim(stem: str) -> str:
    # No leading dot (hidden files) or dash (read as an option); no trailing dot or space
    # (Windows drops them).
    return stem.lstrip(". -").rstrip(". ")
