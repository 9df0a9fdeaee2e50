"""Customer service: every customer message answered with the facts of their order, or escalated.

- `assets.py`: `support_tickets` (tickets and messages read from the support channel into the ledger) and
  `support_replies` (each new message answered or handed to a human); both call `services/support.py`,
  where the ledger protocol is written step by step (claim, bound, classify, act, draft, gate, send,
  resolve after a crash); the actions it performs are `services/order_actions.py`'s.
- `checks.py`: no unvalidated reply reached a customer (blocking), every message is handled, no orphans,
  the day's LLM tokens within the budget (a failed check is an operator alert).
- `defs.py`: the job, its 3-minute schedule and the new-message sensor (`sensors/support.py`).

The channel is the helpdesk API or a mailbox (`resources/support_channel.py` is what both offer); the reply
policy is `rules/support_policy.py`, set through `resources/support_policy.py`, and what a reply may state
is the store policy file (`policies/store_policy.yaml`) and the gate's (docs/support-safety.md).
"""
