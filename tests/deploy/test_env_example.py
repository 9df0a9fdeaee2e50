"""`.env.example` is the checked list of what a deployment sets: every variable the code reads is in it."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# EnvVar("X"), EnvVar.int("X"), env("X", ...), os.environ.get("X"), os.environ["X"], environ.get("X")
READS = re.compile(r"""(?:EnvVar(?:\.int)?\(|\benv\(|environ\.get\(|environ\[)\s*["']([A-Z][A-Z0-9_]+)["']""")
# Set by the platform or only by tests and the sandbox launcher, not by an operator.
NOT_OPERATOR_SETTINGS = {"CI", "DAGSTER_HOME", "SANDBOX_PORT", "TEST_POSTGRES_DSN", "SOAK_TEST_MINUTES"}


def variables_read() -> set[str]:
    found: set[str] = set()
    for base in ("dropship_pipelines", "dashboard"):
        for path in (ROOT / base).rglob("*.py"):
            found |= set(READS.findall(path.read_text()))
    return found - NOT_OPERATOR_SETTINGS


def test_every_variable_the_code_reads_is_in_env_example() -> None:
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    missing = sorted(variables_read() - listed)
    assert not missing, f"add to .env.example: {missing}"


def test_env_example_holds_no_secret_values() -> None:
    for line in (ROOT / ".env.example").read_text().splitlines():
        name, _, value = line.partition("=")
        if name.endswith(("_KEY", "_TOKEN", "_SECRET", "_PASSWORD")):
            assert value.strip() in ("", "CHANGE_ME"), f"{name} has a value in .env.example"
