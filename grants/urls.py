"""Helpers for URLs that come from the user."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def safe_next(target: str | None, fallback: str) -> str:
    """``target`` when it is a path on this site, else ``fallback`` (no open redirects)."""
    if not target:
        return fallback
    target = target.strip()
    if "\\" in target or any(ord(c) < 32 for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for e-mails, built from ``BASE_URL``, never from the request's Host.

    A forged ``Host`` header must not be able to point a password-reset or invitation
    link at another site, and links must be buildable outside a request (the mail worker).
    """
    base = current_app.config.get("BASE_URL")
    if not base:
        raise RuntimeError("Set GRANTS_BASE_URL (e.g. https://grants.example.org) to send links.")
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return base.rstrip("/") + path
