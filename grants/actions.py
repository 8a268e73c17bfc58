"""One-button actions (a POST with only a CSRF token): the shared way routes run them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash

from grants.calls.forms import ConfirmForm
from grants.errors import OperationError
from grants.extensions import db


def confirmed_action(operation: Callable[[], Any]) -> tuple[bool, Any]:
    """Run ``operation`` for a valid one-button form: commit, or roll back and say why.

    Returns (done, result). The caller flashes its own success message, which may depend
    on the result.
    """
    if not ConfirmForm().validate_on_submit():
        return False, None
    try:
        result = operation()
    except OperationError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return False, None
    db.session.commit()
    return True, result
