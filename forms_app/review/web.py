"""The reviewers' web view under /forms/review/: login, list, detail, triage actions, and
the "役に立ちましたか?" votes of the question pages.

Every page needs a signed-in reviewer (except the login page), every POST carries a CSRF
token (checked by the app-wide CSRFProtect, which runs before any view and is not exempted
here), every page is sent with ``Cache-Control: no-store``, everything a customer typed goes
through Jinja's autoescaping, and a database that cannot be reached gives the Japanese 503
page instead of a 500 (forms_app.errors, registered app-wide).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial, wraps
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from forms_app import inputs
from forms_app.labels import ACTION_LABELS, FORM_LABELS, STATUS_LABELS
from forms_app.review import accounts, auth, display, drafts, triage, votes_report
from forms_app.storage.db import app_engine
from forms_app.timeutil import local_text, local_zone

LOCKED_OUT = (
    "ログインの失敗が続いたため、しばらくログインできません。時間をおいてお試しください。"
)
USER_CAPPED = (
    "このユーザー名へのログインの失敗が続いているため、この端末(ブラウザ)からは"
    "しばらく(最長24時間)ログインできません。以前このユーザー名でログインした端末からは"
    "ログインできます。お急ぎの場合は管理者にご相談ください。"
)
bp = Blueprint(
    "review",
    __name__,
    url_prefix="/review",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = auth.current_user()
        if user is None:
            return redirect(url_for("review.login", next=request.full_path.rstrip("?")), 303)
        g.reviewer = user
        return view(*args, **kwargs)

    return wrapper


# Posted fields that may hold several lines; passwords are secrets, never shown or stored.
_MULTILINE_FIELDS = frozenset({"comment"})
_UNCHECKED_FIELDS = frozenset({"password", "csrf_token"})
BAD_INPUT_TITLE = "入力を確認してください"


@bp.before_request
def _refuse_bad_form() -> tuple[str, int] | None:
    """`inputs.problem` on every posted field of the review pages: a Japanese 400."""
    if request.method != "POST":
        return None
    for name, value in request.form.items(multi=True):
        if name in _UNCHECKED_FIELDS:
            continue
        multiline = name in _MULTILINE_FIELDS
        limit = None if multiline else inputs.MAX_QUERY_CHARS  # comments: triage's limit
        message = inputs.problem(value, multiline=multiline, limit=limit)
        if message is not None:
            page = render_template(
                "error.html", title=BAD_INPUT_TITLE,
                message=f"送信内容を受け付けられませんでした。{message}",
            )
            return page, 400
    return None


def _safe_next(target: str | None) -> str:
    """Only a path inside the review area (no open redirect, nothing but a plain path)."""
    home = url_for("review.index")
    if not target or not inputs.is_clean(target) or any(ch.isspace() for ch in target):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return home
    prefix = home.rstrip("/")
    full = target if target.startswith(request.script_root) else request.script_root + target
    return full if full.startswith(prefix) else home


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("Pragma", "no-cache")
    return response


def _parse_date(name: str, errors: list[str]) -> dt.date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors.append(f"日付は YYYY-MM-DD の形で入力してください: {raw[:20]}")
        return None


def _list_filter(errors: list[str]) -> triage.ListFilter:
    args = request.args
    statuses = [s for s in args.getlist("status") if s]
    page_raw = args.get("page") or "1"
    page = int(page_raw) if page_raw.isdigit() and len(page_raw) < 7 else 1
    flt = triage.ListFilter(
        statuses=[s for s in statuses if s in triage.STATUSES],
        form=args.get("form") if args.get("form") in FORM_LABELS else None,
        product=(args.get("product") or "").strip()[:32] or None,
        created_from=_parse_date("from", errors),
        created_to=_parse_date("to", errors),
        claimed_by=(args.get("claimed_by") or "").strip()[:64] or None,
        q=(args.get("q") or "").strip()[:200] or None,
        order="oldest" if args.get("order") == "oldest" else "newest",
        page=max(1, page),
        per_page=int(current_app.config["REVIEW_PER_PAGE"]),
        tz=local_zone(current_app.config),
    )
    try:
        return flt.validate()
    except triage.InvalidInput as err:
        errors.append(str(err))
        return triage.ListFilter(per_page=flt.per_page, tz=flt.tz)


def _action(view: Callable[..., Any]) -> Callable[..., Any]:
    """POST action on one request: run it, flash the outcome, go back to the detail page."""

    @wraps(view)
    def wrapper(request_id: int) -> Any:
        try:
            message = view(request_id)
            flash(message, "success")
        except triage.TriageError as err:
            flash(str(err), "error")
        except OSError as err:
            flash(f"ファイルを書けませんでした: {err.strerror}", "error")
        return redirect(url_for("review.detail", request_id=request_id), 303)

    return login_required(wrapper)


def _products() -> list[tuple[str, str]]:
    """(id, name) of the products, from the app's site data (content/site.yml)."""
    return list(current_app.config["SITE"].products)


def _faq_categories() -> list[str]:
    try:
        return drafts.categories(Path(current_app.config["CONTENT_DIR"]))
    except (OSError, ValueError, TypeError, KeyError):
        return []


@bp.app_template_filter("review_time")
def review_time(value: dt.datetime | None) -> str:
    return local_text(value, local_zone(current_app.config))


@bp.context_processor
def labels() -> dict[str, Any]:
    return {
        "STATUS_LABELS": STATUS_LABELS,
        "FORM_LABELS": FORM_LABELS,
        "ACTION_LABELS": ACTION_LABELS,
        "reviewer": g.get("reviewer"),
    }


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    status = 200
    next_url = request.values.get("next", "")
    if request.method == "POST":
        username = (request.form.get("username") or "")[:64]
        password = (request.form.get("password") or "")[:300]
        attempt = auth.begin_login(username)
        if attempt.refused is not None:
            error = LOCKED_OUT if attempt.refused == "client" else USER_CAPPED
            status = 429
        else:
            user = accounts.verify(app_engine(), username, password)
            if user is not None:
                target = _safe_next(next_url)
                try:
                    auth.sign_in(user)
                except accounts.AccountError:
                    user = None  # removed between the password check and now
            if user is not None:
                auth.login_succeeded(attempt)
                response = redirect(target, 303)
                auth.remember_device(response, user)
                return response
            error = "ユーザー名またはパスワードが違います。"
            status = 401
    elif auth.current_user() is not None:
        return redirect(url_for("review.index"), 303)
    return render_template("review/login.html", error=error, next_url=next_url), status


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    auth.sign_out()
    flash("ログアウトしました。", "success")
    return redirect(url_for("review.login"), 303)


@bp.route("/")
@login_required
def index() -> Any:
    errors: list[str] = []
    flt = _list_filter(errors)
    page = triage.list_requests(app_engine(), flt)
    args = request.args.to_dict(flat=False)
    args.pop("page", None)
    products = _products()
    return render_template(
        "review/list.html",
        page=page,
        flt=flt,
        errors=errors,
        args=args,
        products=products,
        product_name=partial(display.product_name, products=products),
        statuses=triage.STATUSES,
    )


@bp.route("/requests/<int:request_id>")
@login_required
def detail(request_id: int) -> Any:
    try:
        item = triage.get_request(app_engine(), request_id)
    except triage.RequestNotFound:
        abort(404)
    history = triage.get_history(app_engine(), request_id)
    allowed = sorted(triage.TRANSITIONS[item["status"]], key=triage.STATUSES.index)
    can_draft = item["form"] == "docs" and item["status"] == "accepted"
    products = _products()
    return render_template(
        "review/detail.html",
        item=item,
        history=history,
        allowed=[s for s in allowed if s not in ("duplicate", "published")],
        can_duplicate="duplicate" in allowed,
        can_publish="published" in allowed,
        can_draft=can_draft,
        categories=_faq_categories() if can_draft else [],  # read only for the draft form
        product=display.product_name(item.get("product"), products),
        fields=display.field_rows(item["form"], item.get("fields"), products),
    )


@bp.route("/requests/<int:request_id>/claim", methods=["POST"])
@_action
def claim(request_id: int) -> str:
    triage.claim(app_engine(), request_id, actor=g.reviewer)
    return "担当になりました。"


@bp.route("/requests/<int:request_id>/release", methods=["POST"])
@_action
def release(request_id: int) -> str:
    triage.release(app_engine(), request_id, actor=g.reviewer)
    return "担当を外れました。"


@bp.route("/requests/<int:request_id>/status", methods=["POST"])
@_action
def set_status(request_id: int) -> str:
    new = request.form.get("status", "")
    triage.set_status(
        app_engine(), request_id, new, actor=g.reviewer,
        comment=request.form.get("comment", ""),
    )
    return f"ステータスを「{STATUS_LABELS.get(new, new)}」にしました。"


@bp.route("/requests/<int:request_id>/duplicate", methods=["POST"])
@_action
def duplicate(request_id: int) -> str:
    triage.mark_duplicate(
        app_engine(), request_id, of=request.form.get("of", "")[:40], actor=g.reviewer,
        comment=request.form.get("comment", ""),
    )
    return "重複にしました。"


@bp.route("/requests/<int:request_id>/publish", methods=["POST"])
@_action
def publish(request_id: int) -> str:
    triage.publish(
        app_engine(), request_id, faq_id=request.form.get("faq_id", "")[:80],
        actor=g.reviewer, comment=request.form.get("comment", ""),
    )
    return "公開済みにしました。"


@bp.route("/requests/<int:request_id>/draft", methods=["POST"])
@_action
def draft(request_id: int) -> str:
    category = (request.form.get("category") or "").strip()[:64] or None
    made = drafts.write_draft(
        app_engine(), request_id, content_dir=Path(current_app.config["CONTENT_DIR"]),
        actor=g.reviewer, category=category, products=[pid for pid, _name in _products()],
    )
    return f"FAQの下書きを作りました: faq/{made.category}/{made.faq_id}.yml"


@bp.route("/votes")
@login_required
def votes() -> Any:
    """"役に立ちましたか?": the least helpful questions first, then every question's counts."""
    report = votes_report.report(
        app_engine(), Path(current_app.config["CONTENT_DIR"]),
        site_url=str(current_app.config.get("SITE_URL") or ""),
    )
    return render_template("review/votes.html", report=report)

