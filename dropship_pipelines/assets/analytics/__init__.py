"""Analytics: the ledger turned into the numbers the operator checks every morning (and the dashboard shows).

- `assets.py`: `daily_sales`, `daily_profit` (one partition per order day), `kpis`, `top_products`,
  `ad_performance` (snapshots); they write the `analytics_*` tables of `store/analytics_tables.py`.
- `checks.py`: the money they show reconciles with the ledger to the cent; the snapshots follow their inputs.
- `defs.py`: the jobs, the automation sensor and the ledger-change sensor (`sensors/analytics.py`).

When they run: **declarative automation, not a schedule.** The analytics read tables that other
workflows' assets write (`store_orders` / `supplier_orders` from fulfillment, `ad_metrics` /
`ad_campaigns` from ads, `store_listings` from discovery). Those assets are declared as `deps`, so
Dagster knows the lineage and an `AutomationCondition` fires exactly when one of them was materialized —
no polling of our own, no cursor to keep, and the reason for each run is visible in the UI. A sensor
would have to re-derive "did the data change" from the tables; a cron would recompute when nothing
changed and lag when something did.

- Daily partitions (`daily_sales`, `daily_profit`): `DAILY_ON_LEDGER_CHANGE` refreshes the last few days
  (orders placed yesterday still change today: they are sent to the supplier, costs become actual,
  orders get cancelled) whenever an upstream ledger asset updates, plus a nightly pass that closes the
  previous day. Orders dated outside those days are recomputed by the ledger-change sensor; a range of
  older days by a backfill, run as a single run over the range.
- Snapshots (`kpis`, `top_products`, `ad_performance`): `SNAPSHOT_ON_CHANGE`: after every upstream
  update, also while another upstream run is in progress (its update triggers the next refresh).
  Their non-blocking follow checks fail while a snapshot is older than its inputs or disagrees with the
  daily tables; they run with the snapshot and every quarter hour on their own (`SNAPSHOT_AUDIT`).
- The blocking checks compare a table with the snapshot of the ledger its asset read (recorded in the
  materialisation's metadata), so rows arriving mid-run do not fail a run.

The conditions and partitions are named in `dropship_pipelines/cadence.py`.
"""
