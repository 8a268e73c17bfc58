"""The public log, signed tree heads, proofs, publication, open data and the JSON API."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from grants.decisions import operations as decision_ops
from grants.domain import merkle, publiclog
from grants.extensions import db
from grants.transparency import keys
from grants.transparency import operations as ops
from grants.transparency.models import PublicEntry, TreeHead
from tests.conftest import database_url, login, make_app
from tests.domain.test_opendata import validator  # noqa: F401 - the fixture
from tests.test_applications import setup  # noqa: F401 - the fixture
from tests.test_decisions import approve_all, decided  # noqa: F401 - fixtures


def entries(call):
    return db.session.scalars(
        select(PublicEntry).where(PublicEntry.call_id == call.id).order_by(PublicEntry.index)
    ).all()


def publish(s, **approval):
    """Approve, send and publish the fixture's decisions."""
    approve_all(s, **approval)
    decision_ops.release_decisions(s["officer"], s["call"])
    decision_ops.publish_results(s["officer"], s["call"])
    db.session.commit()


def test_the_public_log_has_no_personal_data_and_reviewers_under_pseudonyms(decided):  # noqa: F811
    s = decided
    log = entries(s["call"])
    actions = [e.action for e in log]
    assert "application.submitted" in actions and actions.count("review.submitted") == 3
    assert "ranking.run" in actions
    text_ = json.dumps([e.line() for e in log], ensure_ascii=False)
    for user, _assignment in s["reviewers"]:
        assert user.name not in text_ and user.email not in text_
        assert keys.pseudonym(s["call"].id, user.id) in text_
    for person in ("lead", "partner"):
        assert s[person].email not in text_ and s[person].name not in text_
    assert "Comment 0" not in text_  # comments stay private
    review = next(e for e in log if e.action == "review.submitted")
    assert review.data["application"] == s["app"].reference
    assert review.actor.startswith("R-") and review.subject == f"application:{s['app'].reference}"
    # Chained, and every leaf hash is what the entry's content gives.
    prev = "0" * 64
    for entry in log:
        assert entry.prev_hash == prev
        assert entry.hash == publiclog.entry_hash(prev, entry.body())
        assert entry.leaf_hash == merkle.leaf_hash(publiclog.leaf_data(entry.line())).hex()
        prev = entry.hash


def test_milestones_are_signed_tree_heads(decided):  # noqa: F811
    s = decided
    heads = ops.tree_heads(s["call"])
    assert [h.milestone for h in heads] == ["reviews_closed", "ranking_run"]
    hashes = ops.leaf_hashes(s["call"])
    for head in heads:
        assert head.root == merkle.root_from_hashes(hashes[: head.tree_size]).hex()
        statement = merkle.TreeHead(
            head.tree_size, head.root, head.timestamp, head.milestone, head.call_id
        )
        assert merkle.verify_tree_head(statement, head.signature, keys.public_key())
    # Consistency between the two heads, and inclusion of every entry in the latest.
    first, second = heads
    proof = [bytes.fromhex(h) for h in ops.consistency(s["call"], first, second)]
    assert merkle.verify_consistency(
        first.tree_size,
        second.tree_size,
        bytes.fromhex(first.root),
        bytes.fromhex(second.root),
        proof,
    )
    for index in range(second.tree_size):
        path = [bytes.fromhex(h) for h in ops.inclusion(s["call"], index, second)]
        assert merkle.verify_inclusion(
            hashes[index], index, second.tree_size, path, bytes.fromhex(second.root)
        )


def test_the_database_refuses_to_change_the_public_log(decided):  # noqa: F811
    s = decided
    for statement in (
        "UPDATE public_entries SET actor = 'someone'",
        "DELETE FROM public_entries",
        "UPDATE tree_heads SET root = 'x'",
        "DELETE FROM tree_heads",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
            db.session.execute(text(statement))
    assert len(entries(s["call"])) > 0


def test_publication_shows_results_open_data_and_a_log_that_verifies(client, decided):  # noqa: F811
    s, app = decided, decided["app"]
    call_id = s["call"].id
    for path in ("results", "log.jsonl", "awards.json", "awards.csv"):
        assert client.get(f"/calls/{call_id}/{path}").status_code == 404, path
    assert client.get(f"/api/calls/{call_id}/results").status_code == 404
    s["app"].title = '=HYPERLINK("http://evil.example")'
    publish(s, amount=Decimal(8000), reason="Smaller tour")
    assert [h.milestone for h in ops.tree_heads(s["call"])][-2:] == [
        "decisions_final",
        "published",
    ]
    page = client.get(f"/calls/{call_id}/results").get_data(as_text=True)
    assert "Tokyo Theatre Lab" in page and "Prague Dance House" in page
    assert "€8,000.00" in page and app.reference in page
    assert "3.83" in page  # the mean score of the only criterion
    for user, _assignment in s["reviewers"]:
        assert user.name not in page
    assert "Reviewers by artform of expertise" in page
    assert client.get(f"/calls/{call_id}").get_data(as_text=True).count(f"/calls/{call_id}/results")
    # The API says the same.
    results = client.get(f"/api/calls/{call_id}/results").get_json()
    assert results["funded"][0]["amount"] == "8000.00"
    assert results["ranking"][0]["key"] == app.reference
    stats = client.get(f"/api/calls/{call_id}/statistics").get_json()
    assert stats["total_awarded"] == "8000.00"
    assert {row["group"] for row in stats["by_region"]} == {"142", "150"}
    # CSV cells cannot run as formulas.
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/calls/{call_id}/awards.csv").get_data(as_text=True).lstrip("\ufeff")
            )
        )
    )
    assert rows[0][:3] == ["Identifier", "Title", "Description"]
    assert "Lead organisation: name" in rows[0]  # titles for readers
    title_column = rows[0].index("Title")
    assert rows[1][title_column].startswith("'=HYPERLINK")

    def titles(path: str) -> list[str]:
        text_ = client.get(path).get_data(as_text=True).lstrip("\ufeff")
        return next(csv.reader(io.StringIO(text_)))

    assert "Recipient Org:Name" in titles(f"/calls/{call_id}/awards.csv?titles=360giving")
    french = titles(f"/calls/{call_id}/awards.csv?lang=fr")
    assert "Identifier" not in french and len(french) == len(rows[0])
    # The public log verifies offline, recomputing the ranking from the logged scores.
    response = client.get(f"/calls/{call_id}/log.jsonl")
    assert response.mimetype == "application/jsonl"
    log = publiclog.loads(response.get_data(as_text=True))
    report = publiclog.verify(log, trusted_key=keys.public_key())
    assert report.ok, [f.message for f in report.findings if not f.ok]
    assert any("ranking" in f.message.lower() for f in report.findings)


def test_the_360giving_package_validates_against_the_official_schema(client, decided, validator):  # noqa: F811
    s = decided
    publish(s)
    package = client.get(f"/calls/{s['call'].id}/awards.json").get_json()
    grant = package["grants"][0]
    assert grant["id"] == f"360G-grants-{s['app'].reference}"
    assert {loc["countryCode"] for loc in grant["beneficiaryLocation"]} == {"JP", "CZ"}
    assert [e.message for e in validator.iter_errors(package)] == []


def test_the_applicant_sees_the_inclusion_proof_of_its_entries(client, decided):  # noqa: F811
    s, app = decided, decided["app"]
    login(client, s["lead"])
    page = client.get(f"/applications/{app.id}").get_data(as_text=True)
    assert "This application in the public log" not in page  # not while under review
    approve_all(s)
    decision_ops.release_decisions(s["officer"], s["call"])
    db.session.commit()
    page = client.get(f"/applications/{app.id}").get_data(as_text=True)
    assert "This application in the public log" in page
    head, proofs = ops.application_proofs(s["call"], app.reference)
    assert proofs and head is not None
    hashes = ops.leaf_hashes(s["call"], head.tree_size)
    for entry, proof in proofs:
        assert entry.hash in page
        assert merkle.verify_inclusion(
            hashes[entry.index],
            entry.index,
            head.tree_size,
            [bytes.fromhex(h) for h in proof],
            bytes.fromhex(head.root),
        )


def test_api_proofs_and_errors(client, decided):  # noqa: F811
    s = decided
    call_id = s["call"].id
    heads = client.get(f"/api/calls/{call_id}/tree-heads").get_json()["tree_heads"]
    first, second = heads[0]["tree_size"], heads[-1]["tree_size"]
    proof = client.get(
        f"/api/calls/{call_id}/proofs/inclusion?index=0&tree_size={second}"
    ).get_json()
    assert merkle.verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        0,
        second,
        [bytes.fromhex(h) for h in proof["proof"]],
        bytes.fromhex(proof["root"]),
    )
    consistency = client.get(
        f"/api/calls/{call_id}/proofs/consistency?first={first}&second={second}"
    ).get_json()
    assert merkle.verify_consistency(
        first,
        second,
        bytes.fromhex(consistency["first_root"]),
        bytes.fromhex(consistency["second_root"]),
        [bytes.fromhex(h) for h in consistency["proof"]],
    )
    bad = client.get(f"/api/calls/{call_id}/proofs/inclusion?index=x&tree_size=1")
    assert bad.status_code == 400 and "index" in bad.get_json()["error"]
    assert (
        client.get(f"/api/calls/{call_id}/proofs/inclusion?index=0&tree_size=999").status_code
        == 404
    )
    missing = client.get("/api/calls/999999/tree-heads")
    assert missing.status_code == 404 and "does not exist" in missing.get_json()["error"]
    assert client.get(f"/api/calls/{2**40}/results").status_code == 404  # beyond any id
    assert client.get(f"/api/calls/{s['draft'].id}/tree-heads").status_code == 404
    listing = client.get("/api/calls").get_json()
    assert {c["id"] for c in listing["calls"]} >= {s["call"].id}


def test_openapi_document_is_valid():
    from openapi_spec_validator import validate

    from grants.transparency.openapi import openapi_document

    validate(openapi_document())


def test_the_signing_key_is_generated_once_into_the_instance_folder(tmp_path, app):
    key_file = tmp_path / "signing_key.hex"
    with app.test_request_context():
        app.config.update(SIGNING_KEY=None, SIGNING_KEY_FILE=str(key_file))
        app.extensions.pop("grants_signing_key", None)
        try:
            first = keys.signing_key()
            assert key_file.read_text().strip() == first.hex()
            assert (key_file.stat().st_mode & 0o777) == 0o600
            app.extensions.pop("grants_signing_key", None)
            assert keys.signing_key() == first
        finally:
            app.config["SIGNING_KEY"] = (
                "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
            )
            app.extensions.pop("grants_signing_key", None)


def _append_rates(url: str, call_id: int, writer: int, count: int) -> None:
    """One process appending public entries to a call's log."""
    from grants.app import create_app
    from grants.audit.operations import record
    from grants.calls.models import Call

    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        call = db.session.get(Call, call_id)
        for i in range(count):
            record("test", "call.rate_set", call, {"writer": writer, "i": i}, call_id=call_id)
            db.session.commit()
        db.engine.dispose()


def test_parallel_processes_never_fork_a_public_log(tmp_path, real_sessions):
    """Several processes append to one call's public log at once: one chain, no gaps."""
    from tests.conftest import make_call, make_funder, make_user

    url = database_url(str(tmp_path), "publiclog")
    app = make_app(url)
    with app.app_context():
        officer = make_user("officer@example.org")
        call = make_call(make_funder(officers=(officer,)), officer)
        call_id = call.id
        db.engine.dispose()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_rates, args=(url, call_id, n, 15)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    with app.app_context():
        log = db.session.scalars(
            select(PublicEntry).where(PublicEntry.call_id == call_id).order_by(PublicEntry.index)
        ).all()
        assert [e.index for e in log] == list(range(len(log)))
        assert sum(e.action == "call.rate_set" for e in log) == 60
        prev = "0" * 64
        for entry in log:
            assert entry.prev_hash == prev
            prev = entry.hash
        assert db.session.scalar(select(func.count()).select_from(TreeHead)) == 0
        db.engine.dispose()


def test_verify_command_checks_a_downloaded_log_and_finds_tampering(app, client, decided, tmp_path):  # noqa: F811
    s = decided
    publish(s)
    text_ = client.get(f"/calls/{s['call'].id}/log.jsonl").get_data(as_text=True)
    honest = tmp_path / "log.jsonl"
    honest.write_text(text_, encoding="utf-8")
    runner = app.test_cli_runner()
    key = keys.public_key().hex()
    result = runner.invoke(args=["grants", "audit", "verify", str(honest), "--public-key", key])
    assert result.exit_code == 0, result.output
    assert "✓" in result.output and "✗" not in result.output
    # Change one review score in the copy: the chain breaks at that entry.
    lines = text_.splitlines()
    n = next(i for i, line in enumerate(lines) if '"review.submitted"' in line)
    entry = json.loads(lines[n])
    criterion = next(iter(entry["data"]["scores"]))
    entry["data"]["scores"][criterion] = "5"
    lines[n] = json.dumps(entry)
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(args=["grants", "audit", "verify", str(tampered)])
    assert result.exit_code == 1
    assert f"Entry {entry['index']}" in result.output
    # Without a file: the stored audit log and every call's public log.
    result = runner.invoke(args=["grants", "audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "public log of" in result.output


def test_seal_command_signs_milestones_that_come_with_time(app, world):
    from datetime import timedelta

    from grants.types import utcnow

    call = world["call"]
    call.closes_at = utcnow() - timedelta(hours=1)
    call.review_deadline = utcnow() - timedelta(minutes=5)
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["grants", "seal"])
    assert "signed 'closed'" in result.output and "signed 'reviews_closed'" in result.output
    result = runner.invoke(args=["grants", "seal"])
    assert f"Call {call.id}" not in result.output  # once only


def test_free_text_reasons_stay_out_of_the_public_log(decided):  # noqa: F811
    from grants.calls import operations as call_ops

    s = decided
    call_ops.set_tier_override(
        s["officer"], s["call"], country="TH", tier=3, reason="Per Ms Somchai's e-mail"
    )
    db.session.commit()
    entry = entries(s["call"])[-1]
    assert entry.action == "call.tier_override_set"
    assert "Somchai" not in json.dumps(entry.data) and entry.data["country"] == "TH"


# --- published records (snapshots) ------------------------------------------------------------

PUBLIC_FILES = (
    "awards.json",
    "awards.csv",
    "awards.csv?titles=360giving",
    "awards.csv?lang=fr",
    "log.jsonl",
)
API_FILES = ("results", "statistics")


def public_views(client, call_id):
    """Every public record of a call as served: the results page and the files."""
    # English first (the French CSV below leaves French in the session). The pages carry
    # form tokens that are signed with the time: those are masked, nothing else.
    views = {
        name: re.sub(rb'(name="csrf_token" value=")[^"]+"', rb'\1"', client.get(path).get_data())
        for name, path in (("results", f"/calls/{call_id}/results?lang=en"), ("list", "/results"))
    }
    for path in PUBLIC_FILES:
        views[path] = client.get(f"/calls/{call_id}/{path}").get_data()
    for path in API_FILES:
        views[f"api/{path}"] = client.get(f"/api/calls/{call_id}/{path}").get_data()
    return views


def consent(s, user, value):
    from grants.reviews.models import PanelMember

    member = db.session.scalar(
        select(PanelMember).where(
            PanelMember.call_id == s["call"].id, PanelMember.user_id == user.id
        )
    )
    member.consent_to_be_named = value


def test_published_records_do_not_change_behind_the_reader(client, decided):  # noqa: F811
    s, app = decided, decided["app"]
    call_id = s["call"].id
    named, other = s["reviewers"][0][0], s["reviewers"][1][0]
    consent(s, named, True)
    publish(s, amount=Decimal(8000), reason="Smaller tour")
    before = public_views(client, call_id)
    assert b'name="csrf_token" value=""' in before["results"]  # masked
    page = before["results"].decode()
    assert "Tokyo Theatre Lab" in page and named.name in page and other.name not in page
    # Afterwards, the live rows change: names, titles, amounts, countries, consent.
    s["lead_org"].name = "Renamed Theatre Co"
    s["funder"].name = "Renamed Funder"
    app.title = "A title written after publication"
    partner = next(p for p in app.partners if not p.is_lead)
    partner.grant_requested += Decimal(5000)
    s["partner_org"].country = "AT"
    s["call"].title = {**s["call"].title, "en": "A new call title"}
    consent(s, named, False)
    consent(s, other, True)
    db.session.commit()
    after = public_views(client, call_id)
    for name, body in before.items():
        assert after[name] == body, name
    text_ = b"".join(after.values()).decode("utf-8")
    for later in (
        "Renamed Theatre Co",
        "Renamed Funder",
        "A title written after publication",
        "A new call title",
    ):
        assert later not in text_
    assert "Cooperation Fund" in after["list"].decode() and "Main Funder" in page
    assert other.name not in text_
    # The log names every country in its tier table: the partner's country is checked where
    # the partnership is logged.
    pages = b"".join(v for k, v in after.items() if k != "log.jsonl").decode("utf-8")
    assert '"AT"' not in pages
    log = publiclog.loads(after["log.jsonl"].decode())
    submitted = next(e for e in log.entries if e["action"] == "application.submitted")
    assert "AT" not in submitted["data"]["countries"]
    assert [p["country"] for p in submitted["data"]["partner_budgets"]] == ["JP", "CZ"]
    assert log.header["title"] == "Cooperation Fund"
    assert publiclog.verify(log, trusted_key=keys.public_key()).ok


def test_the_results_page_renders_the_stored_data_in_the_readers_language(client, decided):  # noqa: F811
    s = decided
    s["call"].criteria[0].name = {"en": "Artistic quality", "fr": "Qualité artistique"}
    publish(s)
    s["call"].criteria[0].name = {"en": "Renamed criterion", "fr": "Critère renommé"}
    db.session.commit()
    english = client.get(f"/calls/{s['call'].id}/results").get_data(as_text=True)
    french = client.get(f"/calls/{s['call'].id}/results?lang=fr").get_data(as_text=True)
    assert "Artistic quality" in english and "Qualité artistique" in french
    assert "Funded projects" in english and "Funded projects" not in french
    assert "Renamed" not in english + french and "renommé" not in french


def test_published_records_have_a_strong_etag_and_answer_304(client, decided):  # noqa: F811
    from grants.transparency.models import PublishedRecord

    s = decided
    call_id = s["call"].id
    publish(s)
    stored = {
        r.kind: r
        for r in db.session.scalars(
            select(PublishedRecord).where(PublishedRecord.call_id == call_id)
        )
    }
    assert set(stored) == {
        "results",
        "call",
        "awards.json",
        "awards.csv",
        "api.results",
        "api.statistics",
    }
    for path, kind in (
        (f"/calls/{call_id}/awards.json", "awards.json"),
        (f"/calls/{call_id}/awards.csv?titles=360giving", "awards.csv"),
        (f"/api/calls/{call_id}/results", "api.results"),
        (f"/api/calls/{call_id}/statistics", "api.statistics"),
        (f"/calls/{call_id}/log.jsonl", None),
        (f"/calls/{call_id}/awards.csv", None),
    ):
        response = client.get(path)
        body = response.get_data()
        etag, weak = response.get_etag()
        assert etag and not weak, path
        if kind is not None:  # a stored file: its bytes and its SHA-256
            assert body == stored[kind].content.encode("utf-8"), path
            assert etag == hashlib.sha256(body).hexdigest() == stored[kind].sha256
        if path.endswith("awards.csv"):  # titles in the reader's language
            assert response.headers["Cache-Control"] == "private, max-age=300"
            assert "Accept-Language" in response.headers["Vary"]
        else:
            assert response.headers["Cache-Control"] == "public, max-age=300", path
        again = client.get(path, headers={"If-None-Match": f'"{etag}"'})
        assert again.status_code == 304 and again.get_data() == b"", path
        assert again.get_etag() == (etag, False)
        assert again.headers["Cache-Control"] == response.headers["Cache-Control"]
        other = client.get(path, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200 and other.get_data() == body, path
    # The page itself is rendered for each reader (language, signed-in menu): never shared.
    page = client.get(f"/calls/{call_id}/results")
    assert page.headers["Cache-Control"] == "no-store" and page.get_etag() == (None, None)
    again = client.get(f"/calls/{call_id}/awards.json")  # a session, but no cookie to set
    assert again.headers["Cache-Control"] == "public, max-age=300"
    # A signed-in reader's response renews its session cookie: no shared cache may keep it.
    login(client, s["lead"])
    signed_in = client.get(f"/calls/{call_id}/awards.json")
    assert signed_in.headers["Cache-Control"] == "private, max-age=300"
    assert "Cookie" in signed_in.headers["Vary"]


def test_the_database_refuses_to_change_published_records(decided):  # noqa: F811
    from grants.transparency.models import PublishedRecord

    publish(decided)
    statements = ["UPDATE published_records SET content = '{}'", "DELETE FROM published_records"]
    if db.session.get_bind().dialect.name == "postgresql":
        statements.append("TRUNCATE published_records")
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
            db.session.execute(text(statement))
    assert db.session.scalar(select(func.count()).select_from(PublishedRecord)) == 6


def lodge_and_uphold(s):
    """After publication, the lead appeals and a third officer upholds the appeal."""
    from grants.calls.models import FunderOfficer
    from tests.conftest import make_user

    third = make_user("third-officer@example.org", name="Tess Third")
    db.session.add(FunderOfficer(funder_id=s["funder"].id, user_id=third.id))
    grounds = "Reviewer two works for the funder of our partner; the conflict was not handled."
    appeal = decision_ops.lodge_appeal(s["lead"], s["app"], grounds)
    db.session.commit()
    decision_ops.decide_appeal(third, appeal, "upheld", "The conflict was not handled.")
    db.session.commit()
    return appeal


def test_after_publication_every_new_entry_is_signed_at_once(client, decided):  # noqa: F811
    from grants.calls import operations as call_ops

    s = decided
    call_id = s["call"].id
    publish(s)
    before = public_views(client, call_id)
    published_size = ops.tree_heads(s["call"])[-1].tree_size
    lodge_and_uphold(s)
    call_ops.set_call_texts(
        s["officer"], s["call"], "en", title="Renamed fund", summary="S", description=""
    )
    db.session.commit()
    heads = ops.tree_heads(s["call"])
    log = entries(s["call"])
    assert [e.action for e in log[published_size:]] == [
        "appeal.lodged",
        "appeal.decided",
        "call.texts_updated",
    ]
    # One head per entry, each signed in the transaction that added the entry.
    assert [(h.milestone, h.tree_size) for h in heads[-3:]] == [
        ("after_publication", published_size + 1),
        ("after_publication", published_size + 2),
        ("after_publication", published_size + 3),
    ]
    assert ops.unsigned_entries(s["call"]) == 0
    # The app's own export passes the verifier: it ends with a head over every entry.
    text_ = client.get(f"/calls/{call_id}/log.jsonl").get_data(as_text=True)
    last = json.loads(text_.splitlines()[-1])
    assert last["kind"] == "tree_head" and last["tree_size"] == len(log)
    exported = publiclog.loads(text_)
    report = publiclog.verify(exported, trusted_key=keys.public_key())
    assert report.ok, report.summary()
    assert not any("after the last signed tree head" in f.message for f in report.findings)
    assert exported.header["title"] == "Cooperation Fund"  # as published
    assert exported.header["generated_at"] == heads[-1].timestamp
    # The log grew; the upheld appeal and the new title edited no published record.
    after = public_views(client, call_id)
    for name in ("awards.json", "awards.csv", "awards.csv?titles=360giving", "api/results"):
        assert after[name] == before[name], name
    assert "Renamed fund" not in after["results"].decode()
    old_lines = before["log.jsonl"].decode().splitlines()[1:]  # all but the header
    kept = set(old_lines)
    assert [line for line in text_.splitlines()[1:] if line in kept] == old_lines  # append-only


def test_an_entry_appended_to_a_downloaded_published_log_is_refused(app, client, decided, tmp_path):  # noqa: F811
    s = decided
    publish(s)
    lodge_and_uphold(s)
    text_ = client.get(f"/calls/{s['call'].id}/log.jsonl").get_data(as_text=True)
    log = publiclog.loads(text_)
    honest = tmp_path / "honest.jsonl"
    honest.write_text(text_, encoding="utf-8")
    # Someone appends an entry with a correct hash chain, but cannot sign a head over it.
    last = log.entries[-1]
    forged = {
        "index": last["index"] + 1,
        "time": last["time"],
        "action": "decision.approved",
        "subject": last["subject"],
        "actor": "officer",
        "data": {"application": s["app"].reference, "outcome": "funded", "amount": "9999"},
        "source": last["source"],
    }
    entries_ = [*log.entries, {"kind": "entry", **forged, "prev": last["hash"]}]
    entries_[-1]["hash"] = publiclog.entry_hash(last["hash"], forged)
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text(publiclog.dumps(log.header, entries_, log.heads), encoding="utf-8")
    runner = app.test_cli_runner()
    key = keys.public_key().hex()
    result = runner.invoke(args=["grants", "audit", "verify", str(honest), "--public-key", key])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["grants", "audit", "verify", str(tampered), "--public-key", key])
    assert result.exit_code == 1
    assert "✓ The chain of" in result.output
    assert (
        f"✗ Entry {forged['index']} comes after the last signed tree head, in the log of a call "
        "whose results are published" in result.output
    )
    assert "1 entry is not covered by any signature" in result.output
    assert "could have been added or changed by anyone after the last signature" in result.output


def test_the_seal_command_signs_and_stores_what_older_publications_lack(
    app,
    client,
    decided,  # noqa: F811
    monkeypatch,
):
    """A call published before records were stored and later entries signed at once: the
    verifier refuses its log until ``flask grants seal`` repairs both."""
    from grants.transparency import records

    s = decided
    call_id = s["call"].id
    with monkeypatch.context() as patch:
        patch.setattr(records, "store_published_records", lambda call: [])
        publish(s)
        patch.setattr(ops, "seal", lambda call, milestone: None)
        lodge_and_uphold(s)
    assert client.get(f"/calls/{call_id}/results").status_code == 404
    assert ops.unsigned_entries(s["call"]) == 2
    runner = app.test_cli_runner()
    result = runner.invoke(args=["grants", "audit", "verify"])
    assert result.exit_code == 1
    assert "2 entries are not covered by any signature" in result.output
    result = runner.invoke(args=["grants", "seal"])
    assert result.exit_code == 0, result.output
    assert f"Call {call_id}: stored the published records" in result.output
    assert f"Call {call_id}: signed 'after_publication'" in result.output
    assert ops.unsigned_entries(s["call"]) == 0
    assert client.get(f"/calls/{call_id}/results").status_code == 200
    log = publiclog.loads(client.get(f"/calls/{call_id}/log.jsonl").get_data(as_text=True))
    assert publiclog.verify(log, trusted_key=keys.public_key()).ok
    result = runner.invoke(args=["grants", "audit", "verify"])
    assert result.exit_code == 0, result.output


def test_the_stored_results_read_back_exactly_as_computed(decided):  # noqa: F811
    from grants.domain.audit_chain import canonical_json
    from grants.transparency import records
    from grants.transparency.results import from_data, results_for, to_data

    s = decided
    publish(s, amount=Decimal(8000), reason="Smaller tour")
    computed = results_for(s["call"])
    assert computed is not None and computed.funded and computed.by_tier
    assert from_data(json.loads(canonical_json(to_data(computed)))) == computed
    assert records.published_results(s["call"].id) == computed
