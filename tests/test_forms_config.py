"""Configuration: refusal to start without secrets, environment variables, site data."""

from __future__ import annotations

import builtins
import sys
from pathlib import Path

import pytest

from forms_app import create_app
from forms_app.config import ConfigError, _read_site_yml, load_site_info, read_environment
from forms_app.testing import config_for


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        (("SECRET_KEY",), "CMSKIT_FORMS_SECRET_KEY"),
        (("SUPPORT_ID_PEPPER",), "CMSKIT_FORMS_SUPPORT_ID_PEPPER"),
        (
            ("SECRET_KEY", "SUPPORT_ID_PEPPER"),
            "CMSKIT_FORMS_SECRET_KEY, CMSKIT_FORMS_SUPPORT_ID_PEPPER",
        ),
    ],
)
def test_production_refuses_without_secrets(
    tmp_path: Path, missing: tuple[str, ...], named: str
) -> None:
    config = config_for(tmp_path, ENV="production")
    for key in missing:
        config[key] = ""
    with pytest.raises(ConfigError, match=f"{named} not set"):
        create_app(config)


def test_environment_refusal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CMSKIT_FORMS_ENV", "staging")
    monkeypatch.setenv("CMSKIT_FORMS_SECRET_KEY", "x" * 32)
    monkeypatch.delenv("CMSKIT_FORMS_SUPPORT_ID_PEPPER", raising=False)
    monkeypatch.setenv("CMSKIT_FORMS_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="CMSKIT_FORMS_SUPPORT_ID_PEPPER not set"):
        create_app()


def test_development_generates_stable_secrets(tmp_path: Path) -> None:
    config = config_for(tmp_path, ENV="development", SECRET_KEY=None, SUPPORT_ID_PEPPER=None)
    first = create_app(config)
    second = create_app(config)
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert first.config["SUPPORT_ID_PEPPER"] == second.config["SUPPORT_ID_PEPPER"]
    assert len(first.config["SECRET_KEY"]) == 64
    secrets_file = tmp_path / "instance" / "dev-secrets.json"
    assert secrets_file.stat().st_mode & 0o777 == 0o600
    assert first.config["SESSION_COOKIE_SECURE"] is False


def test_environment_values_are_parsed() -> None:
    found = read_environment(
        {
            "CMSKIT_FORMS_PROXY_COUNT": "2",
            "CMSKIT_FORMS_BENCH": "true",
            "CMSKIT_FORMS_SECRET_KEY": "12345",
            "CMSKIT_FORMS_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
            "OTHER": "x",
        }
    )
    assert found == {
        "PROXY_COUNT": 2,
        "BENCH": True,
        "SECRET_KEY": "12345",  # stays a string
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
    }


def test_bad_number_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CMSKIT_FORMS_PROXY_COUNT must be a whole number"):
        create_app(config_for(tmp_path, PROXY_COUNT="two"))


def test_default_database_is_in_the_instance_folder(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    del config["DATABASE_URL"]
    app = create_app(config)
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'instance' / 'queue.sqlite3'}"
    assert (tmp_path / "instance" / "queue.sqlite3").is_file()


def test_site_info_from_loader_and_fallback(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = repo_root / "content"
    load_site_info.cache_clear()
    via_loader = load_site_info(str(content))
    assert via_loader.products[0] == ("cloud", "CMSKITクラウド")
    assert len(via_loader.products) == 5

    real_import = builtins.__import__

    def no_loader(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("cmskb"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_loader)
    monkeypatch.delitem(sys.modules, "cmskb.content.loader", raising=False)
    load_site_info.cache_clear()
    try:
        assert load_site_info(str(content)) == via_loader
    finally:
        load_site_info.cache_clear()


def test_missing_site_yml_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"site\.yml not found"):
        _read_site_yml(tmp_path / "site.yml")


def test_behind_a_proxy_a_client_cannot_choose_the_url_prefix(tmp_path: Path) -> None:
    """The prefix comes from SCRIPT_NAME only; X-Forwarded-Prefix from a client is ignored."""
    app = create_app(config_for(tmp_path, PROXY_COUNT=1))
    client = app.test_client()
    page = client.get(
        "/feedback/",
        environ_base={"SCRIPT_NAME": "/forms"},
        headers={"X-Forwarded-Prefix": "/evil", "X-Forwarded-Proto": "https"},
    ).get_data(as_text=True)
    assert "/evil" not in page
    assert "/forms/static/" in page


def test_a_new_sqlite_folder_is_created(tmp_path: Path) -> None:
    database = tmp_path / "not" / "yet" / "queue.sqlite3"
    app = create_app(config_for(tmp_path, DATABASE_URL=f"sqlite:///{database}"))
    assert app.test_client().get("/feedback/").status_code == 200
    assert database.parent.is_dir()
