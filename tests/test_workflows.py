"""The GitHub Actions workflows are valid and do what the project promises.

Validation uses check-jsonschema with its vendored GitHub-workflow schema (no network).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from product_fixtures import BIN, ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
CHECK_JSONSCHEMA = BIN / "check-jsonschema"


def _validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _load(path: Path) -> dict[Any, Any]:
    # YAML 1.1 reads the key `on` as True; accept both spellings.
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:
        data["on"] = data.pop(True)
    return data


def _all_steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _runs(workflow: dict[Any, Any]) -> str:
    return "\n".join(step.get("run", "") for step in _all_steps(workflow))


def _uses(workflow: dict[Any, Any]) -> list[str]:
    return [step["uses"].split("@")[0] for step in _all_steps(workflow) if "uses" in step]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_valid_for_github(path: Path) -> None:
    result = _validate(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_validator_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: [push]\njobs:\n  x:\n    runs-on: 3\n    stepz: []\n", encoding="utf-8")
    result = _validate(broken)
    assert result.returncode != 0
    assert "stepz" in result.stdout


def test_pull_requests_check_build_and_test() -> None:
    pr = [w for w in map(_load, WORKFLOWS) if "pull_request" in (w["on"] or {})]
    assert pr, "no workflow runs on pull requests"
    workflow = pr[0]
    assert "actions/setup-python" in _uses(workflow)
    versions = [
        str(step.get("with", {}).get("python-version"))
        for step in _all_steps(workflow)
        if step.get("uses", "").startswith("actions/setup-python")
    ]
    assert "3.11" in versions
    commands = [line.strip() for line in _runs(workflow).splitlines()]
    for needed in ("scripts/setup", ".venv/bin/cmskb check content", "scripts/test"):
        assert needed in commands, f"no step runs {needed}"
    assert any(c.startswith(".venv/bin/mkdocs build --strict") for c in commands)
    test_step = next(s for s in _all_steps(workflow) if "scripts/test" in s.get("run", ""))
    assert test_step.get("env", {}).get("KB_REQUIRE_SERVICES") == "1"


def test_main_publishes_to_pages_after_the_tests() -> None:
    publishing = [w for w in map(_load, WORKFLOWS) if "actions/deploy-pages" in _uses(w)]
    assert publishing, "no workflow deploys to GitHub Pages"
    workflow = publishing[0]
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert "actions/upload-pages-artifact" in _uses(workflow)
    deploy_job = next(
        job
        for job in workflow["jobs"].values()
        if any(s.get("uses", "").startswith("actions/deploy-pages") for s in job["steps"])
    )
    assert deploy_job["permissions"] == {"pages": "write", "id-token": "write"}
    assert "refs/heads/main" in deploy_job["if"]
    assert deploy_job["needs"], "deploying must wait for the build and tests"
    upload = next(
        s for s in _all_steps(workflow) if s.get("uses", "").startswith("actions/upload-pages")
    )
    assert upload["with"]["path"] == "site"
    assert "refs/heads/main" in upload["if"]
