"""Configuration: refusal to start without secrets, environment variables, site data."""

from __future__ import annotations

from pathlib import Path

import pytest
from forms_helpers import config_for

from forms_app import create_app
from forms_app.config import ConfigError, _read_site_yml, load_site_info, read_environment


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


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("TIMEZONE", "Asia/Tokio"),
        ("REVIEW_SESSION_HOURS", 0),
        ("REVIEW_DEVICE_DAYS", "a year"),
        ("REVIEW_PER_PAGE", 5000),
        ("REVIEW_LOGIN_LIMIT", "5 per fortnight"),
        ("SUBMIT_RATE_LIMIT", ""),
        ("STATUS_RATE_LIMIT", "sixty per minute"),
        ("FAILED_ATTEMPTS_WINDOW", 0),
        ("RATELIMIT_STORAGE_URI", "memcached://127.0.0.1:11211"),
        ("RATELIMIT_STRATEGY", "moving-window"),
        ("DATABASE_URL", "not a url"),
        ("SITE_URL", "support.example.com"),
        ("MAX_CONTENT_LENGTH", -1),
        ("SESSION_COOKIE_SECURE", "yes"),
        ("NOTIFY_SMTP_PORT", 70000),
        ("NOTIFY_EMAIL_TO", "reviewers"),
        ("NOTIFY_REVIEW_URL", "/forms/review/"),
    ],
)
def test_every_wrong_setting_stops_the_start_and_is_named(
    tmp_path: Path, key: str, value: object
) -> None:
    with pytest.raises(ConfigError, match=f"refuses to start: CMSKIT_FORMS_{key} "):
        create_app(config_for(tmp_path, **{key: value}))


def test_the_command_line_checks_the_same_settings(tmp_path: Path) -> None:
    """cmskit-forms reads and checks the configuration the server does."""
    from click.testing import CliRunner

    from forms_app.cli import main

    env = {
        "CMSKIT_FORMS_ENV": "development",
        "CMSKIT_FORMS_INSTANCE_PATH": str(tmp_path),
        "CMSKIT_FORMS_TIMEZONE": "Mars/Olympus",
    }
    result = CliRunner().invoke(main, ["list-ids"], env=env)
    assert result.exit_code == 1
    assert "CMSKIT_FORMS_TIMEZONE must be a time zone name" in result.output


def test_default_database_is_in_the_instance_folder(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    del config["DATABASE_URL"]
    app = create_app(config)
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'instance' / 'queue.sqlite3'}"
    assert (tmp_path / "instance" / "queue.sqlite3").is_file()


def test_site_info_comes_from_the_content_loader(repo_root: Path) -> None:
    load_site_info.cache_clear()
    info = load_site_info(str(repo_root / "content"))
    assert info.products[0] == ("cloud", "CMSKITクラウド")
    assert len(info.products) == 5


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
