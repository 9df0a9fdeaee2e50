"""Operator alerts: pure message building, redaction and incident dedupe; channel senders (SMTP, webhook)."""
