"""What every benchmark reports with: one percentile, the figure tables, the headline figures (each with its
ceiling or baseline, ratio and goal, printed and written as JSON), the pipelines' environment."""

import argparse
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
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


@dataclass(frozen=True)
class Figure:
    """One headline figure of a benchmark, next to what it is measured against.

    `reference` is the ceiling the limits allow (a rate's documented limit, the same work done by a faster
    engine) or the baseline it is compared with (a trivial job, a naive render); `goal` is in the figure's
    own unit (a goal of "0.95 of the ceiling" is `0.95 * ceiling`, see `of_ceiling`)."""

    name: str
    value: float
    unit: str
    reference: float
    reference_kind: Literal["ceiling", "baseline"]
    goal: float
    higher_is_better: bool

    @classmethod
    def of_ceiling(cls, name: str, value: float, unit: str, ceiling: float, share: float = 0.95) -> "Figure":
        """A rate that should reach `share` of the ceiling the limits put on it."""
        return cls(name, value, unit, ceiling, "ceiling", share * ceiling, higher_is_better=True)

    @property
    def ratio(self) -> float:
        return self.value / self.reference if self.reference else math.nan

    @property
    def met(self) -> bool:
        return self.value >= self.goal if self.higher_is_better else self.value <= self.goal

    def as_json(self) -> dict[str, Any]:
        def number(value: float) -> float | None:  # JSON has no NaN or infinity
            return value if math.isfinite(value) else None

        return {
            "name": self.name,
            "value": number(self.value),
            "unit": self.unit,
            self.reference_kind: number(self.reference),
            "ratio": number(self.ratio),
            "goal": number(self.goal),
            "higher_is_better": self.higher_is_better,
            "met": self.met,
        }


def _amount(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:,.1f}"


def figures_report(figures: Sequence[Figure], title: str = "headline figures") -> Table:
    """The figures with their ceiling or baseline, ratio and goal, one row each."""
    table = Table(title=title, title_justify="left")
    for column in ("figure", "value", "ceiling / baseline", "ratio", "goal", "met"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for f in figures:
        table.add_row(
            f.name,
            f"{_amount(f.value)} {f.unit}",
            f"{f.reference_kind} {_amount(f.reference)}",
            f"{f.ratio:.2f}",
            f"{'≥' if f.higher_is_better else '≤'} {_amount(f.goal)}",
            "yes" if f.met else "NO",
        )
    return table


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="PATH",
        help='also write the headline figures to PATH as {"figures": [...]}',
    )


def write_figures(path: Path, figures: Sequence[Figure]) -> None:
    path.write_text(json.dumps({"figures": [f.as_json() for f in figures]}, indent=2) + "\n")


def report_figures(console: Console, figures: Sequence[Figure], json_path: Path | None) -> None:
    """What every benchmark ends with: its headline figures printed, and written to `--json PATH`."""
    console.print(figures_report(figures))
    if json_path is not None:
        write_figures(json_path, figures)
        console.print(f"figures written to {json_path}")
