"""Outgoing e-mail through an outbox table, delivered by a worker that retries."""
