"""Ranking runs (and, later, decisions with four-eyes approval)."""
