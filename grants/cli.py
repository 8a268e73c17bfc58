"""Command-line tools: ``flask grants ...`` and ``flask translate ...``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from grants.config import PROJECT_ROOT

grants_cli = AppGroup("grants", help="Administer grants.")
translate_cli = AppGroup("translate", help="Extract, update and compile translations.")
audit_cli = AppGroup("audit", help="The audit log.")
grants_cli.add_command(audit_cli)


@grants_cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option()
@click.option("--locale", default="en", show_default=True)
@click.option("--timezone", default="UTC", show_default=True)
def create_admin(email: str, name: str, password: str, locale: str, timezone: str) -> None:
    """Create a site administrator account."""
    from grants.audit.operations import record
    from grants.auth.operations import register_user
    from grants.errors import OperationError
    from grants.extensions import db

    if len(password) < 12:
        raise click.ClickException("The password needs at least 12 characters.")
    try:
        user = register_user(
            name=name,
            email=email,
            password=password,
            locale=locale,
            timezone=timezone,
            is_admin=True,
        )
    except OperationError as exc:
        raise click.ClickException(str(exc.message)) from exc
    record("cli", "user.admin_created", user)
    db.session.commit()
    click.echo(f"Administrator {user.email} created.")


# Where demo data (known passwords, invented people) may go without asking.
DEMO_ENVIRONMENTS = frozenset({"development", "testing"})


@grants_cli.command("demo")
@click.option(
    "--yes-this-is-not-production",
    "not_production",
    is_flag=True,
    help="Load the demo data although GRANTS_ENV is neither development nor testing.",
)
def demo(not_production: bool) -> None:
    """Load demo data (idempotent) and print the demo logins.

    Refused unless GRANTS_ENV is development or testing: the demo accounts share a
    published password, so they must never reach a production database.
    """
    from flask import current_app

    from grants.demo import DEMO_LOGINS, demo_results_call, load_demo

    env_name = current_app.config.get("ENV_NAME", "production")
    if env_name not in DEMO_ENVIRONMENTS and not not_production:
        raise click.ClickException(
            f"Refusing to load demo data: GRANTS_ENV is {env_name!r}. Demo accounts share a "
            "published password and must never reach a production database. Run it with "
            "GRANTS_ENV=development (as `make run` does), or add --yes-this-is-not-production "
            "if this database really is not production."
        )

    created = load_demo()
    click.echo("Demo data " + ("loaded." if created else "already present."))
    results = demo_results_call()
    if results is not None:
        click.echo(f"Published results of a decided call: /calls/{results.id}/results")
    click.echo(f"Demo logins (password for all: {DEMO_LOGINS['password']}):")
    for role, email in DEMO_LOGINS["accounts"].items():
        click.echo(f"  {role:<24} {email}")


@grants_cli.command("send-mail")
@click.option("--limit", default=100, show_default=True)
def send_mail(limit: int) -> None:
    """Deliver waiting e-mail from the outbox; one bad message never stops the rest."""
    from grants.mail.operations import deliver_pending

    sent, failed = deliver_pending(limit)
    click.echo(
        f"{sent} sent, {failed} failed: a server that did not answer is tried again later; "
        "a message that cannot be sent is marked failed on the outbox page."
    )


@audit_cli.command("verify")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("--public-key", default=None, help="The funder's public key (64 hex digits).")
def audit_verify(file: str | None, public_key: str | None) -> None:
    """Check the stored audit log and every call's public log; or, given FILE, check a
    downloaded public log offline (no database needed)."""
    from grants.domain import publiclog

    if file is not None:
        from grants.verify import main

        sys.exit(main([file, *(["--public-key", public_key] if public_key else [])]))

    from sqlalchemy import select

    from grants.audit.verify import verify_stored_chain
    from grants.calls.models import Call
    from grants.domain.audit_chain import canonical_json
    from grants.extensions import db
    from grants.transparency import keys
    from grants.transparency.operations import export_lines

    report = verify_stored_chain()
    if not report.ok:
        click.echo(
            f"The audit log is BROKEN at entry {report.broken_seq}: {report.problem}. "
            f"{report.checked} entries before it check.",
            err=True,
        )
        sys.exit(1)
    click.echo(f"The audit log holds: {report.checked} entries, every hash and link checks.")
    failed = False
    for call in db.session.scalars(select(Call).order_by(Call.id)):
        text = "".join(canonical_json(line) + "\n" for line in export_lines(call))
        log = publiclog.loads(text)
        if not log.entries:
            continue
        checked = publiclog.verify(log, trusted_key=keys.public_key())
        # A log with no milestone yet has nothing signed: that is not a fault here.
        problems = [
            f
            for f in checked.findings
            if not f.ok and not (not log.heads and f.code == "tree_head")
        ]
        if not problems:
            sealed = "" if log.heads else " (no milestone signed yet)"
            click.echo(
                f"Call {call.id}: its public log of {len(log.entries)} entries checks{sealed}."
            )
        else:
            failed = True
            first = problems[0]
            click.echo(f"Call {call.id}: its public log does NOT check: {first.message}", err=True)
    if failed:
        sys.exit(1)


@grants_cli.command("seal")
def seal() -> None:
    """Sign the tree heads of milestones that come with time (calls that closed, review
    deadlines that passed). Run it from cron, e.g. every hour. It also repairs calls whose
    results were published by an older version: it stores their published records and
    signs the entries their logs hold beyond the last signed tree head."""
    from grants.extensions import db
    from grants.transparency.operations import seal_due
    from grants.transparency.records import store_missing_records

    stored = store_missing_records()
    heads = seal_due()
    db.session.commit()
    for call_id in stored:
        click.echo(f"Call {call_id}: stored the published records of its results as they stand.")
    for head in heads:
        click.echo(f"Call {head.call_id}: signed '{head.milestone}' at {head.tree_size} entries.")
    if not heads and not stored:
        click.echo("No milestone is due.")


def _babel(*args: str) -> None:
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run([str(pybabel), "-q", *args], check=True, cwd=PROJECT_ROOT)  # noqa: S603


POT = "translations/messages.pot"


@translate_cli.command("extract")
def translate_extract() -> None:
    """Write translations/messages.pot from the code and templates."""
    _babel(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "--no-location",
        "--sort-output",
        "--project",
        "grants",
        "-o",
        POT,
        ".",
    )


@translate_cli.command("update")
def translate_update() -> None:
    """Extract, then merge new strings into every catalog."""
    translate_extract.callback()  # type: ignore[misc]
    _babel("update", "-i", POT, "-d", "translations", "--no-wrap", "--ignore-obsolete")


@translate_cli.command("init")
@click.argument("locale")
def translate_init(locale: str) -> None:
    """Start a catalog for a new language."""
    _babel("init", "-i", POT, "-d", "translations", "-l", locale, "--no-wrap")


@translate_cli.command("compile")
def translate_compile() -> None:
    """Build the .mo files that the app reads."""
    if not Path(PROJECT_ROOT, "translations").is_dir():
        raise click.ClickException("No translations folder.")
    _babel("compile", "-d", "translations", "--statistics")


@grants_cli.command("assign")
@click.argument("call_id", type=int)
@click.option("--seed", default=0, show_default=True, help="Breaks ties; logged.")
@click.option("--preview", is_flag=True, help="Show the proposal without storing it.")
def assign(call_id: int, seed: int, preview: bool) -> None:
    """Assign reviewers to a call's submitted applications (as the chair's page does)."""
    from grants.calls.models import Call
    from grants.extensions import db
    from grants.reviews import operations as ops

    call = db.session.get(Call, call_id)
    if call is None:
        raise click.ClickException(f"No call {call_id}.")
    steps = ["read", "solve", "store"]
    with click.progressbar(steps, label="Assigning", show_pos=True) as bar:
        result = None
        for step in bar:
            if step == "read":
                needs, reviewers, conflicts = ops.solver_input(call)
            elif step == "solve":
                result = ops.preview_assignment(call, seed)
            elif not preview:
                result = ops.confirm_assignment("cli", call, seed)
                db.session.commit()
    assert result is not None
    unmet = sum(len(v) for v in result.unmet.values())
    click.echo(
        f"{len(needs)} applications, {len(reviewers)} reviewers, {len(conflicts)} "
        f"conflicts: {len(result.pairs)} pairs, {unmet} unmet requirements, "
        f"match {result.total_match} of at most {result.upper_bound}"
        + (" (preview, nothing stored)." if preview else ".")
    )
    for app_key, items in sorted(result.unmet.items()):
        for item in items:
            click.echo(f"  application {app_key}: {item.requirement} {item.detail} ({item.reason})")
