"""The chart values and the user-code image agree, and the image's install step works as a plain command."""

import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def values() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())


def dockerfile() -> str:
    # Join continuation lines so each instruction is one line.
    return (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")


def image_cmd() -> list[str]:
    [line] = [line for line in dockerfile().splitlines() if line.startswith("CMD ")]
    return yaml.safe_load(line.removeprefix("CMD "))  # the exec form is a JSON array


def option(args: list[str], *names: str) -> str:
    for index, arg in enumerate(args):
        if arg in names:
            return args[index + 1]
    raise AssertionError(f"none of {names} in {args}")


def test_values_name_the_user_code_image_module_and_port_of_the_dockerfile() -> None:
    [deployment] = values()["dagster-user-deployments"]["deployments"]
    cmd = image_cmd()
    assert cmd[:3] == ["dagster", "code-server", "start"]
    assert int(option(cmd, "--port", "-p")) == deployment["port"] == 3030
    assert f"EXPOSE {deployment['port']}" in dockerfile()
    grpc = deployment["dagsterApiGrpcArgs"]
    module = option(cmd, "--module-name", "-m")
    assert option(grpc, "--module-name", "-m") == module == "dropship_pipelines.definitions"
    assert option(grpc, "--location-name") == option(cmd, "--location-name") == "dropship_pipelines"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'module_name = "{module}"' in pyproject
    assert deployment["image"]["tag"] not in ("", "latest")  # runs must use the code they were launched with


def test_values_use_k8s_launcher_external_postgres_and_secrets_from_kubernetes() -> None:
    v = values()
    assert v["runLauncher"]["type"] == "K8sRunLauncher"
    assert v["runLauncher"]["config"]["k8sRunLauncher"]["envSecrets"] == [{"name": "dropship-secrets"}]
    [deployment] = v["dagster-user-deployments"]["deployments"]
    assert deployment["envSecrets"] == [{"name": "dropship-secrets"}]
    assert v["postgresql"]["enabled"] is False
    assert v["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    assert v["generatePostgresqlPasswordSecret"] is False
    # No credential is written in the values: they come only from the named Kubernetes Secrets.
    assert list(credential_values(v)) == []


def credential_values(node: Any, path: str = "") -> Any:
    """Every string value under a key that names a credential (postgresqlPassword, apiKey, ...)."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}"
            if re.search(r"(?i)(password|token|api_?key)$", str(key)) and isinstance(value, str) and value:
                yield where
            yield from credential_values(value, where)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from credential_values(value, f"{path}[{index}]")


def test_values_limits_match_the_single_host_instance_file() -> None:
    chart = values()["concurrency"]
    instance = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())["concurrency"]
    assert chart["enabled"] is True
    assert chart["runs"]["maxConcurrentRuns"] == instance["runs"]["max_concurrent_runs"]
    assert chart["runs"]["tagConcurrencyLimits"] == instance["runs"]["tag_concurrency_limits"]
    assert chart["pools"]["defaultLimit"] == instance["pools"]["default_limit"]
    assert values()["telemetry"]["enabled"] is False


@pytest.mark.timeout(600)
def test_image_install_step_works_as_a_plain_command(tmp_path: Path) -> None:
    """The Dockerfile's `uv sync --frozen --no-dev` into a fresh venv, then the code location imports."""
    [sync] = {m.group(0).strip() for m in re.finditer(r"uv sync --frozen --no-dev(?= |$)", dockerfile())}
    venv = tmp_path / "venv"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_LINK_MODE": "copy"}
    env.pop("VIRTUAL_ENV", None)
    subprocess.run(shlex.split(sync), cwd=ROOT, env=env, check=True, capture_output=True, timeout=540)
    python = venv / "bin" / "python"
    # Only runtime dependencies: the dev group (pytest, ruff, ...) stays out of the image.
    missing_dev = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(u.find_spec('pytest') is None)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert missing_dev.stdout.strip() == "True"
    probe = (
        "from dropship_pipelines.definitions import defs; "
        "print(len(list(defs.resolve_asset_graph().get_all_asset_keys())))"
    )
    imported = subprocess.run(
        [str(python), "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert imported.returncode == 0, imported.stderr[-2000:]
    assert int(imported.stdout.strip().splitlines()[-1]) > 10
