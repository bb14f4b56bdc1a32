"""content/search.yml and per-question keywords: what editors write and what the check says.

Each test writes one thing into a copy of tests/fixtures/content-min and checks the problem
(file, line, field, message, hint) or the settings the loader returns.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cmskb.content.loader import load_content
from content_helpers import copy_fixture, edit, find, problems_of

Q = "faq/installation/install-steps.yml"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return copy_fixture(tmp_path)


def write_search(root: Path, text: str) -> None:
    (root / "search.yml").write_text(text, encoding="utf-8")


def test_search_yml_is_optional(root: Path) -> None:
    settings = load_content(root).search
    assert settings.synonyms == () and settings.exclude == ()


def test_synonyms_and_excluded_pages_are_read(root: Path) -> None:
    write_search(
        root,
        "synonyms:\n  - [料金, 値段, 価格]\n  - [不具合, バグ]\nexclude:\n  - /editors/\n",
    )
    settings = load_content(root).search
    assert settings.synonyms == (("料金", "値段", "価格"), ("不具合", "バグ"))
    assert settings.exclude == ("/editors/",)


def test_unknown_key_in_search_yml(root: Path) -> None:
    write_search(root, "synonym:\n  - [料金, 値段]\n")
    problem = find(problems_of(root), "search.yml", 1, "synonym")
    assert "synonyms" in problem.hint


def test_a_synonym_group_needs_two_words(root: Path) -> None:
    write_search(root, "synonyms:\n  - [料金]\n")
    problem = find(problems_of(root), "search.yml", 2, "synonyms[0]")
    assert "2 個以上" in problem.message


def test_a_word_in_two_groups_is_reported_where_it_repeats(root: Path) -> None:
    write_search(root, "synonyms:\n  - [料金, 値段]\n  - [価格, 値段]\n")
    problem = find(problems_of(root), "search.yml", 3, "synonyms[1][1]")
    assert "synonyms[0]" in problem.message
    assert "1 つのグループ" in problem.hint


def test_a_synonym_must_be_text(root: Path) -> None:
    write_search(root, "synonyms:\n  - [料金, 123]\n")
    problem = find(problems_of(root), "search.yml", 2, "synonyms[0][1]")
    assert "文字列" in problem.message


def test_an_excluded_page_must_exist(root: Path) -> None:
    write_search(root, "exclude:\n  - /editor/\n")
    problem = find(problems_of(root), "search.yml", 2, "exclude[0]")
    assert "/editor/" in problem.message
    assert "/editors/" in problem.hint


def test_an_excluded_page_is_a_site_path(root: Path) -> None:
    write_search(root, "exclude:\n  - editors\n")
    problem = find(problems_of(root), "search.yml", 2, "exclude[0]")
    assert "/ で始まり / で終わる" in problem.message


def test_a_misspelt_search_file_is_named(root: Path) -> None:
    (root / "serch.yml").write_text("synonyms: []\n", encoding="utf-8")
    problem = find(problems_of(root), "serch.yml", 0, "")
    assert "search.yml" in problem.hint


def test_keywords_are_read_once_each(root: Path) -> None:
    keywords = "keywords: [手順書, インストール手順]\n"
    edit(root, Q, "updated: 2026-09-15", keywords + "updated: 2026-09-15")
    question = next(q for q in load_content(root).questions if q.id == "install-steps")
    assert question.keywords == ("手順書", "インストール手順")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[手順書, 手順書]", "重複"),
        ("[手順書, 'a,b']", "カンマ"),
        ("[" + "長" * 41 + "]", "長すぎる"),
    ],
)
def test_bad_keywords_are_reported(root: Path, value: str, message: str) -> None:
    edit(root, Q, "updated: 2026-09-15", f"keywords: {value}\nupdated: 2026-09-15")
    problems = [p for p in problems_of(root) if p.file == Q]
    assert len(problems) == 1, problems
    assert problems[0].line == 7 and problems[0].field.startswith("keywords[")
    assert message in problems[0].message
