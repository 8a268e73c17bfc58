"""Check a call's public log offline: ``python -m grants.verify FILE [--public-key HEX]``.

Needs neither a database nor Flask: it reads the JSON Lines file, checks the hash chain, the
signed tree heads (once the results are published, the last must cover every entry: entries
after it could have been added by anyone), recomputes every ranking run from the logged
review scores, replays the lotteries, checks the published results and the invariants the
docs promise (decisions, criteria, budget, review versions, assigned pairs). Prints one line
per check ("?" marks one the file lacks the fields for), a line per kind of check with its
counts, and a closing summary; the exit code is 0 when everything holds and 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from grants.domain import publiclog


def _public_key(text: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("the public key must be hex digits") from None
    if len(key) != 32:
        raise argparse.ArgumentTypeError("an Ed25519 public key is 64 hex digits (32 bytes)")
    return key


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grants.verify",
        description=(
            "Verify a call's public log offline: the hash chain, the funder's signed tree "
            "heads, and the ranking recomputed from the logged review scores."
        ),
    )
    parser.add_argument("file", help="the public log (JSON Lines) downloaded from the platform")
    parser.add_argument(
        "--public-key",
        type=_public_key,
        metavar="HEX",
        help="the funder's Ed25519 public key as published on its site (64 hex digits)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the verifier; returns the exit code."""
    args = _parser().parse_args(argv)
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:  # a terminal that cannot show ✓ gets '?' rather than a crash
        reconfigure(errors="replace")
    try:
        with open(args.file, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"✗ The file cannot be read: {exc}")
        return 1
    try:
        log = publiclog.loads(text)
    except ValueError as exc:
        print(f"✗ The file is not a well-formed public log: {exc}")
        return 1
    report = publiclog.verify(log, trusted_key=args.public_key)
    for finding in report.findings:
        mark = "✗" if not finding.ok else "✓" if finding.checkable else "?"
        print(f"{mark} {finding.message}")
    print()
    print("Checks made (each kind: items checked, passed, failed, not checkable):")
    for line in report.checks():
        print(f"  {line}")
    print()
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
