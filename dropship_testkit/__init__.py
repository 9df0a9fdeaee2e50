"""The harness that tests and benchmarks share; none of it ships (the wheel holds the pipelines only).

- `sandbox_server`: the sandbox on a loopback port in a background thread, and the environment that
  points the pipelines at it.
- `databases`: a store database per test (a SQLite file, or a fresh PostgreSQL database).
- `ledger_seed`: the one ledger seeder: hand-made ledgers for tests, bulk loads for benchmarks.
- `sandbox_world`: driving and reading the simulated world directly (its customers, what it received).
- `pipelines`: the pipelines' Definitions built from the environment, the analytics recomputed.
- `bench`: the one percentile (nearest rank) of benchmarks and the soak, the benchmarks' figure tables, and
  their headline figures (value, ceiling or baseline, ratio, goal) printed and written with `--json PATH`.
- `api_tally`: every API call counted at the sandbox, and the floor the APIs' rate limits allow for them.
- `soak`: the whole system under faults and killed runs, audited against the ledger
  (`python -m dropship_testkit.soak`).
"""
