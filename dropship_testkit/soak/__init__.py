"""Soak audit: the whole system under faults and killed runs for N minutes, then the world against the ledger.

`python -m dropship_testkit.soak --minutes N` (or `scripts/soak.sh --minutes N`). Exit status 1 when the
audit finds a lost or duplicated side effect or money that does not reconcile to the cent.
"""
