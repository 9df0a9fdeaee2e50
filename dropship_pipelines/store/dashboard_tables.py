"""Summaries the database keeps for the dashboard's reads, so a page reads days, not every row of them.

- `ad_metrics_day_totals`: the ad platforms' daily metrics summed per day and platform (what the KPI
  cards' attributed purchases and /api/ads/daily sum). Kept by triggers on `ad_metrics_daily`
  (migration 0014), so it follows every write to the metrics, whoever makes it; nothing writes it
  directly. `campaigns` is how many metrics rows a total is made of: a total left with none is removed,
  so a day shows up exactly when it has metrics.
- `dashboard_table_versions`: a counter per summary table the dashboard caches a page of, bumped by
  triggers on every write to it (migration 0014): `daily` for analytics_daily_profit and
  analytics_daily_sales; and one per table a dashboard page reads (migration 0016: named after the table,
  and on PostgreSQL split in shards `<table>#<n>` per writing backend, so writers do not wait on one row).
  The dashboard keeps each page's serialized answer with the sum of its tables' counters and answers a
  repeat from it after reading that sum (dashboard/api/cache.py).
"""

import sqlalchemy as sa

from dropship_pipelines.store.schema import MONEY, metadata

ad_metrics_day_totals = sa.Table(
    "ad_metrics_day_totals",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("platform", sa.String(16), primary_key=True),
    sa.Column("spend", MONEY, nullable=False),
    sa.Column("clicks", sa.Integer, nullable=False),
    sa.Column("purchases", sa.Integer, nullable=False),
    sa.Column("revenue", MONEY, nullable=False),
    sa.Column("campaigns", sa.Integer, nullable=False),
)

dashboard_table_versions = sa.Table(
    "dashboard_table_versions",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
)
