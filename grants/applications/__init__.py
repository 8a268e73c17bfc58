"""Partnership applications: partners, budgets, mobility, answers, attachments, sign-off."""
