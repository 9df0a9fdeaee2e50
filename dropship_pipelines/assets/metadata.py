"""Small helpers that turn rows into the Markdown tables the Dagster UI shows as metadata."""

from collections.abc import Iterable, Sequence
from typing import Any

import dagster as dg


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")[:120]


def preview_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> dg.MetadataValue:
    """The first rows of a result, as a Markdown table (a preview, not the data)."""
    if not rows:
        return dg.MetadataValue.md("_none_")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return dg.MetadataValue.md("\n".join(lines))


def reasons_table(pairs: Iterable[tuple[Any, Any]], columns: tuple[str, str]) -> dg.MetadataValue:
    return preview_table([dict(zip(columns, pair, strict=True)) for pair in pairs], columns)
