"""Support IDs: normalization, hashing, CSV import, revoke, list and the command line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from forms_helpers import PEPPER, SECRET_KEY, count_rows, make_app, plain_site
from hypothesis import given
from hypothesis import strategies as st
from review_helpers import migrated_engine
from sqlalchemy import select

from forms_app.cli import main
from forms_app.public.support_ids import (
    create_demo_id,
    find_valid,
    id_hash,
    import_csv,
    is_valid_shape,
    list_ids,
    normalize,
    revoke,
)
from forms_app.storage.schema import support_ids as support_ids_table

PRODUCTS = ["cloud", "asp", "webcanvas", "onprem-perpetual", "onprem-annual"]


@pytest.mark.parametrize(
    "typed",
    [
        "CK-1234-ABCD",
        "ck1234abcd",
        " ck 1234 abcd ",
        "ＣＫ－１２３４－ＡＢＣＤ",  # full-width letters, digits, hyphen
        "ｃｋ‐１２３４—ａｂｃｄ",  # hyphen and em dash
        "CK−1234ーABCD",  # minus sign, katakana long vowel
        "CK\u30001234\tABCD",  # ideographic space, tab
    ],
)
def test_normalize_variants_agree(typed: str) -> None:
    assert normalize(typed) == "CK1234ABCD"


@given(st.text(alphabet="ABCDEFGHJKMNPQRSTVWXYZ0123456789", min_size=4, max_size=20))
def test_full_width_is_the_same_id(plain: str) -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in plain)
    assert normalize(full_width) == normalize(plain) == plain
    assert id_hash(PEPPER, normalize(full_width)) == id_hash(PEPPER, plain)


def test_shapes() -> None:
    assert is_valid_shape("CK1234")
    assert not is_valid_shape("")
    assert not is_valid_shape("ABC")
    assert not is_valid_shape("A" * 65)
    assert not is_valid_shape(normalize("' OR '1'='1"))


def test_hash_depends_on_pepper() -> None:
    assert id_hash("a", "CK1234") != id_hash("b", "CK1234")
    assert len(id_hash("a", "CK1234")) == 64


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    return migrated_engine(f"sqlite:///{tmp_path / 'ids.sqlite3'}")


def write_csv(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(("support_id,holder_kind,product,expires_on,label", *lines)) + "\n")
    return path


def test_import_then_reimport_updates(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    csv_path = write_csv(
        tmp_path / "ids.csv",
        "CK-0001-AAAA,customer,cloud,2030-01-31,株式会社テスト",
        "PT-0002-BBBB,partner,asp,2030-06-30,",
    )
    report = import_csv(engine, csv_path, pepper=PEPPER, products=PRODUCTS)
    assert (report.inserted, report.updated, report.errors) == (2, 0, [])
    write_csv(tmp_path / "ids.csv", "ck0001aaaa,customer,webcanvas,2031-01-31,更新")
    report = import_csv(engine, csv_path, pepper=PEPPER, products=PRODUCTS)
    assert (report.inserted, report.updated) == (0, 1)
    assert count_rows(engine, support_ids_table) == 2
    with engine.connect() as conn:
        found = find_valid(conn, id_hash(PEPPER, "CK0001AAAA"), dt.date(2030, 12, 1))
        stored = " ".join(str(v) for v in conn.execute(select(support_ids_table)).all())
    assert found is not None and found.product == "webcanvas"
    assert "CK-0001" not in stored and "CK0001" not in stored  # never in plain text


def test_import_with_errors_writes_nothing(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    csv_path = write_csv(
        tmp_path / "bad.csv",
        "CK-0001-AAAA,customer,cloud,2030-01-31,ok",
        "X,customer,cloud,2030-01-31,too short",
        "CK-0003-CCCC,owner,cloud,2030-01-31,bad kind",
        "CK-0004-DDDD,customer,nothing,2030-01-31,bad product",
        "CK-0005-EEEE,customer,cloud,31/01/2030,bad date",
        "ck-0001-aaaa,customer,cloud,2030-01-31,duplicate",
    )
    report = import_csv(engine, csv_path, pepper=PEPPER, products=PRODUCTS)
    assert report.inserted == 0
    joined = "\n".join(report.errors)
    assert f"{csv_path}:3: support_id" in joined
    assert f"{csv_path}:4: holder_kind" in joined
    assert f"{csv_path}:5: product 'nothing'" in joined
    assert f"{csv_path}:6: expires_on" in joined
    assert f"{csv_path}:7: same support_id as line 2" in joined
    assert list_ids(engine) == []


def test_import_missing_columns(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "cols.csv"
    path.write_text("id,kind\nCK-1,customer\n")
    report = import_csv(engine, path, pepper=PEPPER, products=PRODUCTS)
    assert "missing column(s) support_id, holder_kind, product, expires_on" in report.errors[0]


def test_validity_rules(engine) -> None:  # type: ignore[no-untyped-def]
    today = dt.date(2030, 1, 31)
    plain = create_demo_id(engine, pepper=PEPPER, product="cloud", days=0, today=today)
    digest = id_hash(PEPPER, normalize(plain))
    with engine.connect() as conn:
        assert find_valid(conn, digest, today) is not None  # valid through its last day
        assert find_valid(conn, digest, today + dt.timedelta(days=1)) is None
    assert revoke(engine, plain.lower(), pepper=PEPPER)
    with engine.connect() as conn:
        assert find_valid(conn, digest, today) is None
    assert revoke(engine, plain, pepper=PEPPER, undo=True)
    with engine.connect() as conn:
        assert find_valid(conn, digest, today) is not None
    assert not revoke(engine, "NOPE-0000", pepper=PEPPER)


# ---------------------------------------------------------------- command line


def test_cli_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CMSKIT_FORMS_ENV", "production")
    monkeypatch.setenv("CMSKIT_FORMS_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("CMSKIT_FORMS_SUPPORT_ID_PEPPER", PEPPER)
    monkeypatch.setenv("CMSKIT_FORMS_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("CMSKIT_FORMS_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    # The command line starts without a built site; the server below needs its frame.
    monkeypatch.setenv("CMSKIT_FORMS_SITE_DIR", str(tmp_path / "no-site"))
    runner = CliRunner()

    result = runner.invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "created queue schema version" in result.output
    assert "already at version" in runner.invoke(main, ["migrate"]).output

    csv_path = write_csv(tmp_path / "ids.csv", "CK-0001-AAAA,customer,cloud,2030-01-31,テスト社")
    result = runner.invoke(main, ["import-ids", str(csv_path)])
    assert result.exit_code == 0 and "imported 1 new, updated 0" in result.output
    result = runner.invoke(main, ["import-ids", str(csv_path)])
    assert "imported 0 new, updated 1" in result.output

    bad = write_csv(tmp_path / "bad.csv", "CK-0009,someone,cloud,2030-01-31,")
    result = runner.invoke(main, ["import-ids", str(bad)])
    assert result.exit_code == 1 and "holder_kind" in result.output

    demo = runner.invoke(main, ["demo-id", "--product", "asp"])
    assert demo.exit_code == 0 and demo.output.startswith("DEMO-")

    revoked = runner.invoke(main, ["revoke-id", "--stdin"], input="ｃｋ－０００１－ａａａａ\n")
    assert revoked.output.strip() == "revoked"
    assert runner.invoke(main, ["revoke-id", "--stdin"], input="NOPE-1234\n").exit_code == 1

    listed = json.loads(runner.invoke(main, ["list-ids", "--json"]).output)
    assert {(r["product"], r["revoked"]) for r in listed} == {("cloud", True), ("asp", False)}
    table = runner.invoke(main, ["list-ids"]).output
    assert "revoked" in table and "2 support ID(s)" in table and "CK-0001" not in table

    # The IDs work in the app with the same configuration.
    from forms_app import create_app

    monkeypatch.setenv("CMSKIT_FORMS_SITE_DIR", str(plain_site()))
    client = create_app().test_client()
    assert client.get("/feedback/").status_code == 200


def test_cli_refuses_without_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CMSKIT_FORMS_SECRET_KEY", "CMSKIT_FORMS_SUPPORT_ID_PEPPER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CMSKIT_FORMS_ENV", "production")
    monkeypatch.setenv("CMSKIT_FORMS_INSTANCE_PATH", str(tmp_path / "instance"))
    result = CliRunner().invoke(main, ["list-ids"])
    assert result.exit_code == 1
    assert "CMSKIT_FORMS_SECRET_KEY, CMSKIT_FORMS_SUPPORT_ID_PEPPER not set" in result.output


def test_demo_id_works_in_the_form(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    from forms_helpers import feedback_data

    from forms_app.storage.db import app_engine

    plain = create_demo_id(app_engine(app), pepper=PEPPER, product="cloud")
    response = app.test_client().post("/feedback/", data=feedback_data(plain))
    assert response.status_code == 303
