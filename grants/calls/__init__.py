"""Funders, their programme officers, calls and criteria."""
