"""Domain exceptions raised by operations; routes turn them into translated messages."""

from __future__ import annotations

from typing import Any


class OperationError(Exception):
    """A request that the rules refuse. ``message`` is a translated or lazy string.

    ``field`` names the form field the message belongs to, when there is one.
    """

    def __init__(self, message: Any, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
