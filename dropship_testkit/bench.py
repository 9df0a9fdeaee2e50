"""What every benchmark reports with: one percentile, the figure tables, the pipelines' environment."""

import math
import os
from collections.abc import Iterable, Sequence

from rich.table import Table


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `share` (0..1) of the values at or below
    it, so always one of the values measured (p50 of [1, 2, 3, 4] is 2; p95 of 20 values is the 19th).
    NaN of nothing."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def figures_table(title: str, rows: Iterable[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    return table


def set_pipeline_env(env: dict[str, str], cj_client_rps: float) -> None:
    """The pipelines read their settings from the environment when resources are built."""
    os.environ.update(env)
    # tests loosen the client's CJ pacer to 50/s; here the client paces like production (its default 4/s)
    os.environ["CJ_REQUESTS_PER_SECOND"] = f"{cj_client_rps:g}"
