"""The ledger: models, sessions, posting, reports and migrations. Knows nothing of Slack."""
