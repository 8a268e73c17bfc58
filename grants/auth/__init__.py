"""Accounts: registration, login, password reset, preferences."""
