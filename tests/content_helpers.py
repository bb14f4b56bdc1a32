"""Helpers for the content-layer tests: mutable copies of the fixture tree and of the MkDocs
project, and the problems the loader reports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cmskb.content.loader import load_content
from cmskb.content.problems import ContentError, Problem
from product_fixtures import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "content-min"

# The seed's price table: code -> (name, validity months, minor version-ups, tickets, yen excl. tax)
SEED_PRICES = {
    "A": ("1年間サポート(8チケット付)", 12, True, 8, 80000),
    "B": ("1年間サポート(18チケット付)", 12, True, 18, 160000),
    "C": ("1年間サポート(30チケット付)", 12, True, 30, 240000),
    "D": ("2年間サポート(40チケット付)", 24, True, 40, 300000),
    "E": ("3年間サポート(60チケット付)", 36, True, 60, 420000),
    "F": ("5年間サポート(80チケット付)", 60, True, 80, 520000),
    "G": ("5年間サポート(8チケット付)", 60, True, 8, 280000),
    "H": ("追加チケット1", 12, False, 1, 8000),
    "I": ("スポットチケット", 1, False, 1, 12000),
}


def copy_fixture(tmp_path: Path) -> Path:
    """A fresh copy of tests/fixtures/content-min that a test may change."""
    root = tmp_path / "content"
    shutil.copytree(FIXTURE, root)
    return root


def copy_project(target: Path) -> Path:
    """mkdocs.yml and docs/ of the repository, copied under `target`."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "mkdocs.yml", target / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", target / "docs")
    return target


def edit(root: Path, rel: str, old: str, new: str) -> None:
    """Replace the single occurrence of `old` in a content file by `new`."""
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {rel}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def problems_of(root: Path) -> list[Problem]:
    """The problems load_content reports for `root` (it must report some)."""
    with pytest.raises(ContentError) as info:
        load_content(root)
    assert info.value.problems, "ContentError without problems"
    return info.value.problems


def find(problems: list[Problem], file: str, line: int, field: str) -> Problem:
    """The one problem at file:line for field; fails with the full list otherwise."""
    hits = [p for p in problems if (p.file, p.line, p.field) == (file, line, field)]
    listing = "\n".join(p.format() for p in problems)
    assert len(hits) == 1, f"expected one problem at {file}:{line} {field}, got:\n{listing}"
    return hits[0]
