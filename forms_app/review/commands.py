"""`cmskit-forms review ...`: triage from the command line.

Readable output by default, ``--json`` for scripts. Actions are recorded in the history
under ``--as USERNAME`` or the operating-system user. Passwords come from a hidden prompt
or from standard input (``--password-stdin``), never from the command line.
"""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from forms_app.inputs import json_terminal_safe, terminal_lines, terminal_safe
from forms_app.labels import FORM_LABELS, STATUS_LABELS
from forms_app.review import (
    accounts,
    display,
    drafts,
    export,
    notify,
    retention,
    triage,
    votes_report,
)
from forms_app.storage.db import app_engine
from forms_app.timeutil import local_text, local_today, local_zone
from forms_app.votes import store as vote_store

log = logging.getLogger(__name__)

MAX_EXPORT = 100_000
DAY = click.DateTime(["%Y-%m-%d"])


@click.group(name="review")
def cli() -> None:
    """Triage the request queue (every command uses the app's configuration)."""


as_option = click.option("--as", "actor", metavar="USERNAME", help="操作者(既定: OSのユーザー)")
json_option = click.option("--json", "as_json", is_flag=True, help="JSONで出力")


def _actor(name: str | None) -> str:
    actor = name or getpass.getuser()
    try:
        return triage.check_actor(actor)
    except triage.InvalidInput as err:
        raise click.UsageError(f"{err} (--as で指定してください)") from err


def _emit(data: Any, as_json: bool, human: Callable[[], None]) -> None:
    if as_json:
        text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
        click.echo(json_terminal_safe(text))
    else:
        human()


def _fail_on_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected errors into a clean message and exit status 1."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (triage.TriageError, accounts.AccountError, ValueError) as err:
            raise click.ClickException(str(err)) from err

    return wrapper


def _when(value: dt.datetime | None) -> str:
    return local_text(value, local_zone(current_app.config)) or "-"


def _line(item: dict[str, Any]) -> str:
    status = STATUS_LABELS.get(item["status"], item["status"])
    claimed = terminal_safe(item["claimed_by"] or "-")
    title = terminal_safe(" ".join(str(item["title"]).split())[:60])
    return (
        f"#{item['id']:<5} {item['receipt']}  {_when(item['created_at'])}  "
        f"{item['form']:<8} {status:<6} 担当:{claimed:<10} {title}"
    )


def _field(label: str, value: Any, *, multiline: bool = False) -> None:
    """`  label: value` (line breaks escaped), or for a multi-line field the label and the
    value's lines each under a bar."""
    text = "" if value is None else value
    lines = terminal_lines(text) if multiline else [terminal_safe(text)]
    if len(lines) == 1:
        click.echo(f"  {terminal_safe(label)}: {lines[0]}")
        return
    click.echo(f"  {terminal_safe(label)}:")
    for line in lines:
        click.echo(f"    │ {line}")


def _read_password(from_stdin: bool, prompt: str) -> str:
    """The first line of stdin, or a hidden prompt asked twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True)


@cli.command("list")
@click.option("--status", "statuses", multiple=True, type=click.Choice(triage.STATUSES))
@click.option("--form", type=click.Choice(sorted(FORM_LABELS)))
@click.option("--product")
@click.option("--from", "created_from", type=DAY, help="受付日(TIMEZONE の日付)から")
@click.option("--to", "created_to", type=DAY, help="受付日(TIMEZONE の日付)まで")
@click.option("--claimed-by", help="担当者(- で未担当)")
@click.option("--search", "q", help="件名・本文の検索語")
@click.option("--oldest", is_flag=True, help="古い順")
@click.option("--page", type=click.IntRange(min=1), default=1)
@click.option("--per-page", type=click.IntRange(1, triage.MAX_PER_PAGE), default=50)
@json_option
@_fail_on_errors
@with_appcontext
def list_cmd(
    statuses: tuple[str, ...], form: str | None, product: str | None,
    created_from: dt.datetime | None, created_to: dt.datetime | None,
    claimed_by: str | None, q: str | None, oldest: bool, page: int, per_page: int,
    as_json: bool,
) -> None:
    """List requests with filters."""
    flt = triage.ListFilter(
        statuses=statuses, form=form, product=product,
        created_from=created_from.date() if created_from else None,
        created_to=created_to.date() if created_to else None,
        claimed_by=claimed_by, q=q, order="oldest" if oldest else "newest",
        page=page, per_page=per_page, tz=local_zone(current_app.config),
    )
    result = triage.list_requests(app_engine(), flt)

    def human() -> None:
        for item in result.items:
            click.echo(_line(item))
        click.echo(
            f"{result.total} 件中 {len(result.items)} 件 ({result.page}/{result.pages} ページ)"
        )

    _emit(
        {
            "total": result.total, "page": result.page, "pages": result.pages,
            "items": [triage.public_view(i) for i in result.items],
        },
        as_json, human,
    )

@cli.command("show")
@click.argument("ref")
@json_option
@_fail_on_errors
@with_appcontext
def show_cmd(ref: str, as_json: bool) -> None:
    """Show one request (by id or receipt) with its history."""
    engine = app_engine()
    item = triage.get_request(engine, ref)
    history = triage.get_history(engine, item["id"])

    def human() -> None:
        # Customer text is escaped (control characters, C1, bidi controls) and every
        # line of a multi-line value is indented under a bar: no text can fake a line.
        click.echo(_line(item))
        for key in ("product", "contact_email", "duplicate_of", "published_faq_id"):
            if item.get(key):
                _field(key, item[key])
        _field("件名", item["title"])
        multiline = display.multiline_fields()
        for key, value in (item.get("fields") or {}).items():
            _field(key, value, multiline=key in multiline)
        click.echo("履歴:")
        for h in history:
            change = h["to_status"] or ""
            if h["from_status"] and h["from_status"] != h["to_status"]:
                change = f"{h['from_status']} -> {h['to_status']}"
            comment = f"  「{terminal_safe(h['comment'])}」" if h["comment"] else ""
            actor = terminal_safe(h["actor"])
            click.echo(
                f"  {_when(h['at'])}  {actor:<12} {h['action']:<12} {change}{comment}"
            )

    _emit(
        {**triage.public_view(item), "history": [triage.public_view(h) for h in history]},
        as_json, human,
    )


def _done(item: dict[str, Any], message: str, as_json: bool) -> None:
    """Print the request as it is after the action (JSON) or `message`."""
    _emit(triage.public_view(item), as_json, lambda: click.echo(message))

@cli.command("claim")
@click.argument("ref")
@as_option
@json_option
@_fail_on_errors
@with_appcontext
def claim_cmd(ref: str, actor: str | None, as_json: bool) -> None:
    """Claim a request (fails if someone else holds it)."""
    who = _actor(actor)
    engine = app_engine()
    item = triage.get_request(engine, ref)
    triage.claim(engine, item["id"], actor=who)
    message = f"#{item['id']} を {who} さんの担当にしました。"
    _done(triage.get_request(engine, item["id"]), message, as_json)

@cli.command("release")
@click.argument("ref")
@as_option
@click.option("--force", is_flag=True, help="他の人の担当も解除する")
@json_option
@_fail_on_errors
@with_appcontext
def release_cmd(ref: str, actor: str | None, force: bool, as_json: bool) -> None:
    """Release a claim."""
    who = _actor(actor)
    engine = app_engine()
    item = triage.get_request(engine, ref)
    triage.release(engine, item["id"], actor=who, force=force)
    _done(triage.get_request(engine, item["id"]), f"#{item['id']} の担当を解除しました。",
          as_json)

@cli.command("status")
@click.argument("ref")
@click.argument("new_status", type=click.Choice(triage.STATUSES))
@click.option("--comment", default="", help="内部コメント")
@click.option("--faq-id", help="published にするときのFAQ ID")
@as_option
@json_option
@_fail_on_errors
@with_appcontext
def status_cmd(
    ref: str, new_status: str, comment: str, faq_id: str | None, actor: str | None,
    as_json: bool,
) -> None:
    """Set the status of a request."""
    who = _actor(actor)
    engine = app_engine()
    item = triage.get_request(engine, ref)
    updated = triage.set_status(engine, item["id"], new_status, actor=who, comment=comment,
                                faq_id=faq_id)
    label = STATUS_LABELS[new_status]
    _done(updated, f"#{item['id']} を「{label}」にしました。", as_json)

@cli.command("duplicate")
@click.argument("ref")
@click.option("--of", "of", required=True, help="重複先(IDまたは受付番号)")
@click.option("--comment", default="")
@as_option
@json_option
@_fail_on_errors
@with_appcontext
def duplicate_cmd(ref: str, of: str, comment: str, actor: str | None, as_json: bool) -> None:
    """Mark a request as a duplicate of another."""
    who = _actor(actor)
    engine = app_engine()
    item = triage.get_request(engine, ref)
    updated = triage.mark_duplicate(engine, item["id"], of=of, actor=who, comment=comment)
    _done(updated, f"#{item['id']} を {of} の重複にしました。", as_json)

@cli.command("publish")
@click.argument("ref")
@click.option("--faq-id", help="公開したFAQのID(Q&A・マニュアルの要望では必須)")
@click.option("--comment", default="")
@as_option
@json_option
@_fail_on_errors
@with_appcontext
def publish_cmd(
    ref: str, faq_id: str | None, comment: str, actor: str | None, as_json: bool
) -> None:
    """Mark an accepted request as published."""
    who = _actor(actor)
    engine = app_engine()
    item = triage.get_request(engine, ref)
    updated = triage.publish(engine, item["id"], faq_id=faq_id, actor=who, comment=comment)
    _done(updated, f"#{item['id']} を公開済みにしました。", as_json)

@cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@click.option("--status", "statuses", multiple=True, type=click.Choice(triage.STATUSES))
@click.option("--form", type=click.Choice(sorted(FORM_LABELS)))
@click.option("--votes", "of_votes", is_flag=True,
              help="リクエストの代わりに「役に立ちましたか?」の回答を書き出す")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="出力先ファイル(既定: 標準出力)")
@_fail_on_errors
@with_appcontext
def export_cmd(
    fmt: str, statuses: tuple[str, ...], form: str | None, of_votes: bool, output: Path | None
) -> None:
    """Export requests (or, with --votes, the votes) as CSV (formula-safe, UTF-8 with BOM)
    or JSON."""
    if of_votes:
        if statuses or form:
            raise click.UsageError("--votes には --status と --form を付けられません。")
        rows = vote_store.export_rows(app_engine())
        text = export.votes_csv(rows) if fmt == "csv" else export.votes_json(rows)
    else:
        flt = triage.ListFilter(statuses=statuses, form=form)
        rows = triage.all_requests(app_engine(), flt, limit=MAX_EXPORT)
        text = export.to_csv(rows) if fmt == "csv" else export.to_json(rows)
    if output is None:
        click.echo(text, nl=False)
    else:
        encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
        output.write_text(text, encoding=encoding, newline="")
        click.echo(f"{len(rows)} 件を {output} に書き出しました。", err=True)

@cli.command("draft-faq")
@click.argument("ref")
@click.option("--category", help="FAQのカテゴリーID(既定: 対象ページから、なければ先頭)")
@click.option("--content-dir", type=click.Path(file_okay=False, path_type=Path))
@as_option
@json_option
@_fail_on_errors
@with_appcontext
def draft_cmd(
    ref: str, category: str | None, content_dir: Path | None, actor: str | None,
    as_json: bool,
) -> None:
    """Write a draft FAQ entry from an accepted docs request."""
    who = _actor(actor)
    root = content_dir or Path(current_app.config["CONTENT_DIR"])
    made = drafts.write_draft(
        app_engine(), ref, content_dir=root, actor=who, category=category,
        today=local_today(local_zone(current_app.config)),
    )
    _emit(
        {"faq_id": made.faq_id, "category": made.category, "path": str(made.path)},
        as_json, lambda: click.echo(f"下書きを作りました: {made.path}"),
    )

@cli.command("add-reviewer")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="パスワードを標準入力の1行目から読む")
@_fail_on_errors
@with_appcontext
def add_reviewer_cmd(username: str, password_stdin: bool) -> None:
    """Create a reviewer account (password from a prompt or stdin)."""
    password = _read_password(password_stdin, "パスワード")
    made = accounts.add_reviewer(app_engine(), username, password)
    click.echo(f"レビュー担当者 {made.username} を追加しました。")

@cli.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True)
@_fail_on_errors
@with_appcontext
def set_password_cmd(username: str, password_stdin: bool) -> None:
    """Change a reviewer's password."""
    password = _read_password(password_stdin, "新しいパスワード")
    accounts.set_password(app_engine(), username, password)
    click.echo(f"{username} のパスワードを変更しました。")

@cli.command("remove-reviewer")
@click.argument("username")
@_fail_on_errors
@with_appcontext
def remove_reviewer_cmd(username: str) -> None:
    """Delete a reviewer account."""
    accounts.remove_reviewer(app_engine(), username)
    click.echo(f"レビュー担当者 {username} を削除しました。")

@cli.command("list-reviewers")
@json_option
@with_appcontext
def list_reviewers_cmd(as_json: bool) -> None:
    """List reviewer accounts."""
    people = accounts.list_reviewers(app_engine())

    def human() -> None:
        for p in people:
            click.echo(f"{p.username}  {_when(p.created_at)}")
        if not people:
            click.echo("(アカウントはありません)")

    _emit(
        [{"username": p.username, "active": p.active, "created_at": p.created_at}
         for p in people],
        as_json,
        human,
    )

@cli.command("deliver-notifications")
@click.option("--loop", is_flag=True, help="止めるまで繰り返す(ワーカー)")
@click.option("--interval", type=click.FloatRange(min=0.5), default=10.0, show_default=True)
@json_option
@_fail_on_errors
@with_appcontext
def deliver_cmd(loop: bool, interval: float, as_json: bool) -> None:
    """Send due notifications from the outbox (one pass, or --loop).

    A message that fails is recorded on its row and retried later; with --loop, even a
    whole pass that fails (the database is down) is reported and the worker goes on.
    """
    settings = current_app.config["NOTIFY_SETTINGS"]
    while True:
        try:
            report = notify.deliver_due(app_engine(), settings)
        except Exception as err:
            if not loop:
                raise click.ClickException(f"通知を送れませんでした: {err}") from err
            log.exception("notification pass failed; trying again in %s s", interval)
            click.echo(f"通知の送信処理に失敗しました(再試行します): {err}", err=True)
        else:
            _emit(
                {"sent": report.sent, "failed": report.failed, "pending": report.pending},
                as_json,
                lambda r=report: click.echo(  # type: ignore[misc]
                    f"送信 {r.sent} 件、失敗 {r.failed} 件、未送信 {r.pending} 件"
                ),
            )
        if not loop:
            break
        time.sleep(interval)

@cli.command("purge")
@click.option("--older-than", "days", type=click.IntRange(min=1), required=True,
              help="最後の変更からの日数")
@as_option
@json_option
@_fail_on_errors
@with_appcontext
def purge_cmd(days: int, actor: str | None, as_json: bool) -> None:
    """Blank personal data of finished (closed or accepted) requests older than N days, and
    the voter of votes last changed more than N days ago (they keep counting)."""
    report = retention.purge_closed(app_engine(), older_than_days=days, actor=_actor(actor))
    _emit(
        {"requests": report.requests, "outbox": report.outbox, "comments": report.comments,
         "votes": report.votes},
        as_json,
        lambda: click.echo(
            f"{report.requests} 件のリクエストから個人データを削除し、"
            f"履歴のコメント {report.comments} 件と通知 {report.outbox} 件を消しました。"
            f"「役に立ちましたか?」の回答 {report.votes} 件から"
            "回答したブラウザーの記録を消しました。"
        ),
    )

@cli.command("forget-email")
@click.argument("address")
@as_option
@json_option
@_fail_on_errors
@with_appcontext
def forget_cmd(address: str, actor: str | None, as_json: bool) -> None:
    """Remove a requester's e-mail address from every request."""
    report = retention.forget_email(app_engine(), address, actor=_actor(actor))
    _emit(
        {"requests": report.requests, "comments": report.comments, "outbox": report.outbox},
        as_json,
        lambda: click.echo(
            f"メールアドレスを削除しました: リクエスト {report.requests} 件、"
            f"履歴のコメント {report.comments} 件、通知 {report.outbox} 件。"
        ),
    )


@cli.command("votes")
@click.option("--least", type=click.IntRange(1, 1000), default=votes_report.LEAST_HELPFUL,
              show_default=True, help="「役に立たなかった」順位の件数")
@json_option
@_fail_on_errors
@with_appcontext
def votes_cmd(least: int, as_json: bool) -> None:
    """"役に立ちましたか?": the least helpful questions, then every question's counts."""
    report = votes_report.report(
        app_engine(), Path(current_app.config["CONTENT_DIR"]),
        site_url=str(current_app.config.get("SITE_URL") or ""), least=least,
    )

    def line(row: dict[str, Any]) -> str:
        title = terminal_safe(row["title"] or "(公開されていないご質問)")
        return (
            f"  はい {row['yes']:>5}  いいえ {row['no']:>5}  ({row['helpful_percent']:>3}%)  "
            f"{row['id']}  {title}"
        )

    def human() -> None:
        click.echo("役に立たなかったご質問(「いいえ」の多い順):")
        for row in report["least_helpful"]:
            click.echo(line(row))
        if not report["least_helpful"]:
            click.echo("  (「いいえ」の回答はまだありません)")
        click.echo("ご質問ごとの回答数(多い順):")
        for row in report["questions"]:
            click.echo(line(row))
        click.echo(f"回答 {report['votes']} 件、ご質問 {len(report['questions'])} 件")

    _emit(report, as_json, human)
