"""Rows turned into the tables the Dagster UI shows as metadata (`dg.MetadataValue.table`, sortable).

A preview, not the data: callers pass the first rows; long text is clipped.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import dagster as dg

MAX_TEXT = 120  # characters of a text cell: enough to read a reason, short enough to keep the table narrow

Cell = str | int | float | bool | None


def _cell(value: Any) -> Cell:
    """A value Dagster can store in a table record: numbers stay numbers (so the UI sorts them as such)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)  # metadata only; the tables keep Decimal
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    return str(value)[:MAX_TEXT]


def _column_type(values: Iterable[Any]) -> str:
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            return "bool"
        if isinstance(value, int):
            return "int"
        if isinstance(value, float | Decimal):
            return "float"
        if isinstance(value, datetime):
            return "datetime"
        if isinstance(value, date):
            return "date"
        return "string"
    return "string"


def preview_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> dg.MetadataValue:
    """The first rows of a result as a table of the given columns (a preview, not the data)."""
    schema = dg.TableSchema(
        columns=[dg.TableColumn(name, _column_type(row.get(name) for row in rows)) for name in columns]
    )
    records = [dg.TableRecord({name: _cell(row.get(name)) for name in columns}) for row in rows]
    return dg.MetadataValue.table(records=records, schema=schema)


def reasons_table(pairs: Iterable[tuple[Any, Any]], columns: tuple[str, str]) -> dg.MetadataValue:
    """Pairs such as (reason, count) or (record, error) as a two-column table."""
    return preview_table([dict(zip(columns, pair, strict=True)) for pair in pairs], columns)
