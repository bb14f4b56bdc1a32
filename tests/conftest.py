"""Shared fixtures and the rule for tests that need a local service.

A test that needs PostgreSQL, Redis, a browser or another local service carries the
`service` marker (so ``-m "not service"`` runs everything else) and calls
`require_service(name, available, why)`. On a laptop without the service the test skips
loudly; with KB_REQUIRE_SERVICES=1 (set by .ci/run) the same condition fails the test. A
test that asks for a service without the marker fails, whether the service is there or not.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ROOT / "content"
REQUIRE_SERVICES = os.environ.get("KB_REQUIRE_SERVICES") == "1"

# Session fixtures for the built site, the served product and the browser (tests/e2e/,
# tests/test_validators_*.py): one build and one server per session; `services` gives the
# local PostgreSQL and Redis (the `pg_url` fixture).
pytest_plugins = ["product_fixtures", "services"]

_missing: list[str] = []
_running: list[pytest.Item] = []  # the test being set up or run


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    _running.append(item)
    try:
        return (yield)
    finally:
        _running.pop()


def require_service(name: str, available: bool, why: str = "") -> None:
    """Skip (or, under KB_REQUIRE_SERVICES=1, fail) when a needed service is missing."""
    if _running and _running[-1].get_closest_marker("service") is None:
        pytest.fail(
            f"{_running[-1].nodeid} needs {name} but has no @pytest.mark.service "
            '(so -m "not service" would not leave it out)',
            pytrace=False,
        )
    if available:
        return
    message = f"{name} is not available{': ' + why if why else ''}"
    if REQUIRE_SERVICES:
        pytest.fail(f"KB_REQUIRE_SERVICES=1 and {message}", pytrace=False)
    _missing.append(message)
    pytest.skip(f"SERVICE MISSING: {message}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Repeat missing services at the end so that a skip is never silent."""
    if _missing:
        terminalreporter.section("services missing: these tests were SKIPPED", yellow=True)
        for line in sorted(set(_missing)):
            terminalreporter.write_line(f"  {line}")
        terminalreporter.write_line("  (CI sets KB_REQUIRE_SERVICES=1, which makes them fail)")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def content_root() -> Path:
    return CONTENT
