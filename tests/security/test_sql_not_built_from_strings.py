"""No SQL is built by string formatting in the pipelines or the dashboard: values go in as bound params."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [ROOT / "dropship_pipelines", ROOT / "dashboard" / "api", ROOT / "dashboard" / "__main__.py"]
SQL_CALLS = {"text", "execute", "exec_driver_sql", "executescript", "executemany", "literal_column"}
SQL_START = re.compile(
    r"\s*(select\b.*\bfrom\b|insert\s+into\b|update\s+\S+\s+set\b|delete\s+from\b|"
    r"create\s+(table|index|database)\b|drop\s+(table|index|database)\b|pragma\s)",
    re.IGNORECASE | re.DOTALL,
)


def _formatted(node: ast.AST) -> bool:
    """An f-string with values, `"..." % x`, `"...".format(...)`, or `+` with a non-literal operand."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        parts = (node.left, node.right)
        has_text = any(isinstance(p, ast.Constant | ast.JoinedStr) for p in parts)
        return has_text and not all(isinstance(p, ast.Constant) for p in parts)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return isinstance(node.func.value, ast.Constant)
    return False


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _literal_text(node: ast.AST) -> str:
    parts = [p.value for p in ast.walk(node) if isinstance(p, ast.Constant) and isinstance(p.value, str)]
    return " ".join(parts)


def _is_metadata_text(func: ast.AST) -> bool:
    """`dg.MetadataValue.text(...)` is Dagster's display text, not SQL's `text()`."""
    return isinstance(func, ast.Attribute) and _name(func.value) == "MetadataValue"


def problems(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        # A formatted string handed straight to an SQL entry point.
        if (
            isinstance(node, ast.Call)
            and _name(node.func) in SQL_CALLS
            and not _is_metadata_text(node.func)
            and node.args
            and _formatted(node.args[0])
        ):
            found.append((line, f"{_name(node.func)}() of a formatted string"))
        # A formatted string that reads like SQL, wherever it is built (it is executed somewhere else).
        elif _formatted(node) and SQL_START.match(_literal_text(node)):
            found.append((line, f"SQL built by formatting: {_literal_text(node)[:60]!r}"))
    return found


def test_no_sql_is_built_by_string_formatting() -> None:
    files = [p for base in SCANNED for p in ([base] if base.is_file() else sorted(base.rglob("*.py")))]
    assert len(files) > 40  # the scan really covers the code
    found = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in files
        for line, what in problems(ast.parse(path.read_text(), filename=str(path)))
    ]
    assert found == []


def test_the_scanner_catches_the_patterns_it_claims_to() -> None:
    bad = [
        'conn.execute(sa.text(f"SELECT * FROM t WHERE id = {x}"))',
        'conn.execute(f"DELETE FROM t WHERE id = {x}")',
        'conn.exec_driver_sql("SELECT * FROM t WHERE id = %s" % x)',
        "q = \"SELECT * FROM t WHERE name = '{}'\".format(x)",
        'conn.execute(sa.text("SELECT * FROM t WHERE id = " + x))',
        "sql = f\"UPDATE orders SET status = '{status}'\"",
    ]
    good = [
        'conn.execute(sa.text("SELECT * FROM t WHERE id = :id"), {"id": x})',
        'log(f"selected {n} rows from the store")',
        'cursor.execute("PRAGMA journal_mode=WAL")',
        'dg.MetadataValue.text(f"${cap:.2f} a day per campaign")',
    ]
    assert all(problems(ast.parse(snippet)) for snippet in bad)
    assert not any(problems(ast.parse(snippet)) for snippet in good)
