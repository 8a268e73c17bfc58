"""Uploads: a PDF is accepted only if it parses as one, names are rebuilt from a safe stem,
and on blind calls reviewers receive a neutral name and no document metadata."""

from __future__ import annotations

import contextlib
import hashlib
import time
import unicodedata
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter
from pypdf.annotations import Text
from pypdf.generic import DecodedStreamObject, NameObject, TextStringObject
from sqlalchemy import select

from grants.applications.models import Attachment
from grants.extensions import db
from grants.pdf import (
    MAX_STEM_BYTES,
    PdfError,
    PdfProblem,
    PdfTooComplex,
    ascii_pdf_name,
    bounded,
    check_pdf,
    safe_pdf_name,
    without_metadata,
)
from grants.reviews import operations as review_ops
from grants.storage import get_storage
from tests.conftest import login
from tests.test_applications import PDF, make_pdf, setup, upload  # noqa: F401 - the fixture
from tests.test_equity_policy import submit_complete
from tests.test_reviews import reviewer

IDENTITY = {
    "/Author": "Aiko Tanaka",
    "/Title": "Tokyo Theatre Lab proposal",
    "/Subject": "Rivers by Tokyo Theatre Lab",
    "/Creator": "Tanaka Writer Suite",
    "/Producer": "TanakaPDF 9",
    "/Keywords": "Tanaka, Tokyo Theatre Lab",
}
# Every distinctive word of IDENTITY and of the XMP and comment added below.
TELLTALES = [b"Tanaka", b"Tokyo", b"Theatre", b"Rivers", b"TanakaPDF", b"Writer"]


def identifying_pdf() -> bytes:
    """A two-page PDF that names its makers everywhere pypdf lets us: the document
    information (partly in indirect objects), catalogue and page XMP, a comment's author,
    and an earlier incremental revision whose information named them too."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Author": "Aiko Tanaka (first draft)"})
    writer.xmp_metadata = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
        b'02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b"<dc:creator>Aiko Tanaka</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    page_xmp = DecodedStreamObject()
    page_xmp.set_data(b"<x:xmpmeta><dc:creator>Tokyo Theatre Lab</dc:creator></x:xmpmeta>")
    # pypdf has no public call to add a free-standing indirect object.
    writer.pages[0][NameObject("/Metadata")] = writer._add_object(page_xmp)
    writer.add_annotation(
        page_number=1,
        annotation=Text(rect=(50, 550, 200, 650), text="Check the budget", title_bar="Aiko Tanaka"),
    )
    first = BytesIO()
    writer.write(first)
    # An incremental update: the first revision's information stays in the file's bytes.
    update = PdfWriter(BytesIO(first.getvalue()), incremental=True)
    update.add_metadata(IDENTITY)
    author = update._add_object(TextStringObject("Aiko Tanaka"))
    update._info[NameObject("/Author")] = author  # an indirect string, as some tools write
    out = BytesIO()
    update.write(out)
    return out.getvalue()


# What the tests uploaded before uploads were parsed: a catalogue without a page tree.
OLD_TEST_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


# --- what counts as a PDF --------------------------------------------------------------------


def encrypted_with_empty_password() -> bytes:
    """Opens without a password but is still encrypted (permissions only)."""
    return make_pdf(password="")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"<html><body>%PDF-1.7 see the attachment</body></html>\n%%EOF", PdfProblem.NOT_PDF),
        (b"<!doctype html>\n" + PDF, PdfProblem.NOT_PDF),  # a PDF inside an HTML page
        (b"%PDF-1.7\n<html><script>alert(1)</script></html>\n%%EOF\n", PdfProblem.NOT_PDF),
        (PDF[: len(PDF) // 2], PdfProblem.NOT_PDF),  # truncated download
        (PDF[:-7], PdfProblem.NOT_PDF),  # the end-of-file marker cut off
        (b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n", PdfProblem.NOT_PDF),
        (
            b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
            PdfProblem.NOT_PDF,
        ),
        (make_pdf(pages=0), PdfProblem.NO_PAGES),
        (make_pdf(password="secret"), PdfProblem.ENCRYPTED),
        (encrypted_with_empty_password(), PdfProblem.ENCRYPTED),
        (make_pdf(pages=3), PdfProblem.TOO_MANY_PAGES),
        (make_pdf(pages=2, metadata=IDENTITY), None),
    ],
    ids=[
        "html-mentioning-pdf",
        "html-wrapping-pdf",
        "pdf-header-then-html",
        "truncated",
        "no-eof",
        "garbage-body",
        "catalogue-without-pages",
        "no-pages",
        "encrypted",
        "encrypted-empty-password",
        "too-many-pages",
        "valid",
    ],
)
def test_check_pdf_accepts_only_readable_pdfs(data, problem):
    """The content decides: header, end marker, parse, encryption and page tree."""
    assert check_pdf(data, max_pages=2) == problem


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_check_pdf_never_raises_on_damaged_files(data):
    """Bytes cut, flipped or inserted anywhere in a real PDF give an answer, never an
    exception; so does making a blind copy (PdfError at most)."""
    original = bytearray(identifying_pdf())
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(original) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            original[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del original[at : at + data.draw(st.integers(1, 64))]
        else:
            original[at:at] = data.draw(st.binary(min_size=1, max_size=32))
        if not original:
            break
    damaged = bytes(original)
    assert check_pdf(damaged, max_pages=10) in {None, *PdfProblem}
    with contextlib.suppress(PdfError):
        without_metadata(damaged)


def deeply_nested_pdf(depth: int) -> bytes:
    """A small, valid-looking PDF with a dictionary nested ``depth`` levels deep: cheap to
    send, slow to parse (pypdf falls back to repairs at every level)."""
    nested = b"<</A " * depth + b"1" + b">>" * depth
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]/X " + nested + b">>endobj\n"
        b"xref\n0 0\ntrailer<</Root 1 0 R>>\nstartxref\n0\n%%EOF\n"
    )


def test_a_file_that_takes_too_long_to_parse_is_stopped():
    """The parser runs in a child process with a CPU limit: a file built to keep it busy
    costs about the limit, not minutes."""
    started = time.monotonic()
    with pytest.raises(PdfTooComplex):
        bounded(check_pdf, deeply_nested_pdf(300_000), 2000, seconds=1)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("func", "args", "error"),
    [
        (time.sleep, (30,), PdfTooComplex),  # no answer: waited for at most 2 s + 1 s
        (bytearray, (3 * 1024**3,), PdfTooComplex),  # out of memory
        (without_metadata, (b"not a pdf",), PdfError),  # the function's own refusal
        (int, ("a bug",), RuntimeError),  # anything else is a bug and says so
    ],
    ids=["sleeps", "memory", "pdf-error", "bug"],
)
def test_bounded_turns_every_limit_into_an_answer(func, args, error):
    """Time, memory, refusals and bugs in the child come back as exceptions the caller
    knows; nothing hangs."""
    started = time.monotonic()
    with pytest.raises(error):
        bounded(func, *args, seconds=1, memory=512 * 1024**2)
    assert time.monotonic() - started < 10


def test_bounded_returns_what_the_child_computed():
    """The normal case: the answer of the call in the child."""
    assert bounded(check_pdf, PDF, 2000, seconds=5) is None
    assert bounded(check_pdf, make_pdf(pages=0), 2000, seconds=5) is PdfProblem.NO_PAGES


# --- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uploaded", "stored"),
    [
        ("Plan final.pdf", "Plan final.pdf"),
        ("budget.html", "budget.pdf"),
        ("setup.exe", "setup.pdf"),
        ("letter.pdf.exe", "letter.pdf.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.pdf"),  # right-to-left override: "invoiceexe.pdf"
        ("\u2067budget\u2069\u200e\u200f.pdf", "budget.pdf"),  # isolates and marks
        ("a\x00b\x07c\x1b[31m.pdf", "abc[31m.pdf"),  # NUL, BEL, ESC
        ("line\nbreak\r\tname.pdf", "line break name.pdf"),
        ("../../etc/passwd", "passwd.pdf"),
        ("..\\..\\Windows\\win.ini", "win.pdf"),
        ("C:\\Users\\Aiko\\Plan.pdf", "Plan.pdf"),
        (".htaccess", "document.pdf"),
        ("...pdf", "document.pdf"),
        ("", "document.pdf"),
        ("\u202e\u200b", "document.pdf"),
        ("-rf.pdf", "rf.pdf"),
        ("CON.pdf", "_CON.pdf"),
        ('Budget: "final" <v2>?*.pdf', "Budget final v2.pdf"),
        ("ｐｌａｎ．ｅｘｅ", "plan.pdf"),  # full-width letters and dot
        ("計画書.pdf", "計画書.pdf"),
        ("แผนงานโครงการ.pdf", "แผนงานโครงการ.pdf"),
        ("نامه\u200cها.pdf", "نامه\u200cها.pdf"),  # Persian keeps its zero-width non-joiner
        ("Café Zürich.PDF", "Café Zürich.pdf"),
    ],
)
def test_safe_pdf_name_rebuilds_names_from_a_safe_stem(uploaded, stored):
    """Extensions, overrides, controls and paths go; letters of every script stay."""
    assert safe_pdf_name(uploaded) == stored


def test_long_names_are_cut_at_a_character_boundary():
    """At most MAX_STEM_BYTES of UTF-8 before .pdf, never half a character."""
    name = safe_pdf_name("日本語" * 200 + ".pdf")
    assert name.endswith(".pdf") and len(name[:-4].encode()) <= MAX_STEM_BYTES
    assert set(name[:-4]) <= set("日本語")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_safe_pdf_name_is_always_safe_and_stable(name):
    """Whatever is typed, the result is a .pdf name without separators, controls or format
    characters (but joiners), no leading dot, bounded, and the same when applied again."""
    result = safe_pdf_name(name)
    stem = result[:-4]
    assert result.endswith(".pdf") and stem
    assert len(stem.encode()) <= MAX_STEM_BYTES + 1  # + the "_" before a device name
    assert not set(stem) & set('/\\<>:"|?*')
    assert all(
        char in "\u200c\u200d" or unicodedata.category(char)[0] not in "CZ" or char == " "
        for char in stem
    )
    assert not stem.startswith((".", "-", " ")) and not stem.endswith((".", " "))
    assert safe_pdf_name(result) == result
    assert ascii_pdf_name(result).isascii()


def test_upload_stores_and_serves_the_safe_name(app, client, setup):  # noqa: F811
    """The name is rebuilt on upload, said in the confirmation, and served as an attachment
    with an RFC 6266 UTF-8 name; the bytes are stored as uploaded."""
    application = setup["application"]
    login(client, setup["lead"])
    response = upload(client, application.id, PDF, name="proposal\u202efdp.exe")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The document is uploaded as proposalfdp.pdf." in page
    upload(client, application.id, PDF, name="計画書（最終）.html")
    first, second = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert (first.label, second.label) == ("proposalfdp.pdf", "計画書(最終).pdf")
    download = client.get(f"/applications/{application.id}/attachments/{first.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"] == "attachment; filename=proposalfdp.pdf"
    assert download.mimetype == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    download = client.get(f"/applications/{application.id}/attachments/{second.id}")
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=document.pdf; "
        "filename*=UTF-8''%E8%A8%88%E7%94%BB%E6%9B%B8%28%E6%9C%80%E7%B5%82%29.pdf"
    )


def test_names_stored_before_the_rebuild_are_shown_and_served_safely(app, client, setup):  # noqa: F811
    """An old label (an .html name with a right-to-left override) never reaches a page or a
    download header as it was."""
    application = setup["application"]
    stored = get_storage().save(PDF)
    old = Attachment(
        application=application,
        label="cv\u202elmth.html",
        storage_key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        uploaded_by_id=setup["lead"].id,
    )
    db.session.add(old)
    db.session.commit()
    login(client, setup["lead"])
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "cvlmth.pdf" in page and "\u202e" not in page
    download = client.get(f"/applications/{application.id}/attachments/{old.id}")
    assert download.headers["Content-Disposition"] == "attachment; filename=cvlmth.pdf"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html>%PDF-1.4 <script>alert(1)</script></html>\n%%EOF", "This file is not a PDF."),
        (PDF[: len(PDF) // 2], "This file is not a PDF."),
        (b"%PDF-1.5\n" + b"\x00\xff" * 500 + b"\n%%EOF", "This file is not a PDF."),
        (make_pdf(password="secret"), "This PDF is protected by a password or encryption"),
        (make_pdf(pages=0), "This PDF has no pages."),
    ],
    ids=["html", "truncated", "garbage", "encrypted", "no-pages"],
)
def test_refused_uploads_say_why_beside_the_field_and_store_nothing(
    app,
    client,
    setup,  # noqa: F811
    data,
    message,
):
    """A clear message on the file field, no 500, no row and no file left behind."""

    def stored_files():
        return {p for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file()}

    before = stored_files()
    login(client, setup["lead"])
    response = upload(client, setup["application"].id, data, name="plan.pdf")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert f'<p class="error" id="file-error">{message}' in page
    assert db.session.scalars(select(Attachment)).all() == []
    assert stored_files() == before


def test_a_pdf_too_complex_to_check_is_refused_in_time(app, client, setup):  # noqa: F811
    """Past UPLOAD_PARSE_SECONDS of checking, the upload is refused with advice, quickly."""
    login(client, setup["lead"])
    app.config["UPLOAD_PARSE_SECONDS"] = 1
    started = time.monotonic()
    try:
        response = upload(client, setup["application"].id, deeply_nested_pdf(300_000))
    finally:
        app.config["UPLOAD_PARSE_SECONDS"] = 10
    assert time.monotonic() - started < 10
    assert response.status_code == 200
    assert "This PDF is too complex to check." in response.get_data(as_text=True)
    assert db.session.scalars(select(Attachment)).all() == []


def test_page_cap_is_a_setting(app, client, setup):  # noqa: F811
    """More pages than UPLOAD_MAX_PAGES are refused with the limit named."""
    login(client, setup["lead"])
    app.config["UPLOAD_MAX_PAGES"] = 2
    try:
        page = upload(client, setup["application"].id, make_pdf(pages=3)).get_data(as_text=True)
    finally:
        app.config["UPLOAD_MAX_PAGES"] = 2000
    assert "This PDF has more than 2 pages." in page
    assert db.session.scalars(select(Attachment)).all() == []


# --- blind review ----------------------------------------------------------------------------


@pytest.fixture
def blind(client, setup):  # noqa: F811
    """A submitted application with two uploads (a plain one, then one that names its
    makers) on a blind call, and an assigned reviewer."""
    application = setup["application"]
    login(client, setup["lead"])
    upload(client, application.id, PDF, name="budget.pdf")
    original = identifying_pdf()
    upload(client, application.id, original, name="Tokyo Theatre Lab - Aiko Tanaka.pdf")
    app = submit_complete(setup)
    setup["call"].blind = True
    rev = reviewer(setup, "blind@example.org")
    assignment = review_ops.add_assignment(setup["officer"], app, rev.id, "Test")
    db.session.commit()
    attachment = db.session.scalars(select(Attachment).order_by(Attachment.id.desc())).first()
    return {
        "app": app,
        "reviewer": rev,
        "assignment": assignment,
        "attachment": attachment,
        "original": original,
    }


def test_identifying_pdf_really_identifies():
    """The test file carries every telltale the blind copy must lose."""
    data = identifying_pdf()
    reader = PdfReader(BytesIO(data))
    assert reader.metadata["/Author"] == "Aiko Tanaka"
    assert reader.metadata["/Producer"] == "TanakaPDF 9"
    assert reader.xmp_metadata is not None
    assert b"first draft" in data
    for word in TELLTALES:
        assert word in data, word


def test_blind_reviewers_get_a_neutral_name_and_no_metadata(client, setup, blind):  # noqa: F811
    """Named after the reference and the document's number; no author, title, subject,
    creator, producer, keywords, XMP, comment author or earlier revision; same pages."""
    app, attachment = blind["app"], blind["attachment"]
    login(client, blind["reviewer"])
    response = client.get(f"/applications/{app.id}/attachments/{attachment.id}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename={app.reference}-document-2.pdf"
    )
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    served = response.data
    for word in [*TELLTALES, b"Aiko", b"first draft"]:
        assert word not in served, word
    reader = PdfReader(BytesIO(served))
    assert reader.metadata is None and reader.xmp_metadata is None
    assert len(reader.pages) == 2
    assert reader.pages[1]["/Annots"][0].get_object()["/Contents"] == "Check the budget"
    # The page lists it as "Document 2", matching the file's name.
    page = client.get(f"/reviewer/assignments/{blind['assignment'].id}").get_data(as_text=True)
    assert "Document 2" in page and "Tanaka" not in page


def test_partners_and_officers_get_the_original_byte_for_byte(client, setup, blind):  # noqa: F811
    """Nothing stored is altered: the partnership and the officer receive what was uploaded,
    under the uploaded (safe) name, also after a reviewer's download."""
    app, attachment, original = blind["app"], blind["attachment"], blind["original"]
    url = f"/applications/{app.id}/attachments/{attachment.id}"
    login(client, blind["reviewer"])
    assert client.get(url).data != original
    for user in (setup["lead"], setup["partner"], setup["officer"]):
        login(client, user)
        response = client.get(url)
        assert response.data == original, user.email
        assert response.headers["Content-Disposition"] == (
            'attachment; filename="Tokyo Theatre Lab - Aiko Tanaka.pdf"'
        )
    assert attachment.sha256 == hashlib.sha256(original).hexdigest()
    with get_storage().open(attachment.storage_key) as handle:
        assert handle.read() == original


def test_reviewers_on_an_open_call_get_the_original(client, setup, blind):  # noqa: F811
    """Without blind review, reviewers receive the file and the name as uploaded."""
    setup["call"].blind = False
    db.session.commit()
    app, attachment = blind["app"], blind["attachment"]
    login(client, blind["reviewer"])
    response = client.get(f"/applications/{app.id}/attachments/{attachment.id}")
    assert response.data == blind["original"]
    assert "Aiko Tanaka.pdf" in response.headers["Content-Disposition"]


def test_an_unreadable_old_file_is_withheld_not_leaked_on_a_blind_call(client, setup, blind):  # noqa: F811
    """A file stored before uploads were parsed cannot be cleaned: the reviewer gets an
    explanation (409), never the original, and never a 500."""
    app, attachment = blind["app"], blind["attachment"]
    legacy = b"%PDF-1.4\n% Aiko Tanaka\n1 0 obj<</Type/Catalog>>endobj\n%%EOF\n"
    stored = get_storage().save(legacy)
    attachment.storage_key = stored.key
    db.session.commit()
    login(client, blind["reviewer"])
    response = client.get(f"/applications/{app.id}/attachments/{attachment.id}")
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "cannot be prepared for blind review" in body and "Tanaka" not in body
    login(client, setup["lead"])
    assert client.get(f"/applications/{app.id}/attachments/{attachment.id}").data == legacy
