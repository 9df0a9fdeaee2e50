"""Customer service: every customer message answered with the facts of their order, or escalated.

- `assets.py`: `support_tickets` (tickets and messages read from the support channel into the ledger) and
  `support_replies` (each new message answered or handed to a human); both call `services/support.py`,
  where the ledger protocol is written step by step (claim, draft, validate, send, resolve after a crash).
- `checks.py`: no unvalidated reply reached a customer (blocking), every message is handled, no orphans.
- `defs.py`: the job, its 3-minute schedule and the new-message sensor (`sensors/support.py`).

The channel is the helpdesk API or a mailbox (`resources/support_channel.py` is what both offer); the reply
policy is `rules/support_policy.py`, set through `resources/support_policy.py`.
"""
