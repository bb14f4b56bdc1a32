"""Public pages: the two request forms, the thanks page and the status lookup.

Whatever goes wrong after a person pressed 送信 (a field, the support ID, an expired CSRF
token, a rate limit, a busy database), the form comes back with everything they typed and
the error beside its field; a receipt is shown only for a committed row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import Connection
from werkzeug.wrappers import Response

from forms_app import ratelimit
from forms_app.labels import STATUS_LABELS
from forms_app.public import queue, support_ids
from forms_app.public.forms import DocsRequestForm, FeedbackForm, RequestForm, StatusForm
from forms_app.public.receipts import parse_receipt
from forms_app.ratelimit.attempts import AttemptsUnavailable, Refusal, client_key
from forms_app.storage.db import app_engine
from forms_app.storage.errors import QueueUnavailable
from forms_app.timeutil import local_date_text, local_today, local_zone
from forms_app.votes import questions

log = logging.getLogger(__name__)
bp = Blueprint("public", __name__, template_folder="templates")

WRONG_ID = (
    "このサポートIDではご利用いただけません。入力したIDをご確認ください"
    "(有効期限が切れたIDや無効になったIDも使えません)。"
)
BLOCKED = (
    "サポートIDの確認に続けて失敗したため、受付を一時停止しています。"
    "15分ほど待ってからもう一度お試しください。"
)
UNAVAILABLE = (
    "ただいま混み合っているため、受け付けられませんでした。入力内容はそのまま残っています。"
    "少し待ってから、もう一度「送信する」を押してください。"
)
CSRF_FAILED = (
    "ページの有効期限が切れたか、送信元を確認できませんでした。入力内容はそのまま残っています。"
    "もう一度「送信する」を押してください。"
)
RATE_LIMITED = (
    "短い時間に送信が続いたため、受け付けられませんでした。入力内容はそのまま残っています。"
    "しばらく待ってから送信してください。"
)
# The same problems on pages with no request form to keep (review login, status lookup).
CSRF_FAILED_PAGE = (
    "ページの有効期限が切れたか、送信元を確認できませんでした。"
    "ページを開き直してから、もう一度操作してください。"
)
RATE_LIMITED_PAGE = (
    "短い時間にアクセスが続いたため、表示できませんでした。"
    "しばらく待ってから、もう一度お試しください。"
)
BAD_RECEIPT = "受付番号は「K7QM-3XAD-9PRT」のような12文字の英数字です。"
NOT_FOUND_RECEIPT = "この受付番号のご連絡は見つかりませんでした。番号をご確認ください。"
HONEYPOT = "送信内容を受け付けられませんでした。「ウェブサイト」の欄は空のままにしてください。"

# What each status means for the person who sent the request (names: labels.STATUS_LABELS).
STATUS_DESCRIPTIONS = {
    "received": "ご連絡を受け付けました。担当者の確認を待っています。",
    "in_review": "担当者が内容を確認しています。",
    "accepted": "ご連絡の内容を、製品やドキュメントの改善に取り入れることにしました。",
    "declined": "検討の結果、今回は見送ることにしました。",
    "duplicate": "同じ内容のご連絡をすでにいただいているため、そちらとあわせて扱います。",
    "published": "ご連絡をもとにした情報を、FAQまたはマニュアルに掲載しました。",
}


@dataclass(frozen=True, slots=True)
class FormPage:
    """One of the two forms: its form class, template and queue name."""

    form: str  # queue value: feedback | docs
    endpoint: str
    template: str
    form_class: type[RequestForm]


PAGES = {
    "feedback": FormPage("feedback", "public.feedback", "public/feedback.html", FeedbackForm),
    "docs": FormPage(
        "docs", "public.docs_request", "public/docs_request.html", DocsRequestForm
    ),
}
PAGE_BY_ENDPOINT = {page.endpoint: page for page in PAGES.values()}


def _make_form(page: FormPage, **kwargs: Any) -> RequestForm:
    form = page.form_class(**kwargs)
    if isinstance(form, FeedbackForm):
        form.set_products(current_app.config["SITE"].products)
    return form


def _render_form(
    page: FormPage, form: RequestForm, *, status: int = 200, message: str | None = None
) -> tuple[str, int]:
    errors = [
        (field.id, field.label.text, error)
        for field in form
        for error in field.errors
    ]
    return render_template(page.template, form=form, errors=errors, message=message), status


def _id_keys(form: RequestForm) -> tuple[str, str, str] | None:
    """(normalized ID, its hash, client key) when an ID was typed without field errors."""
    field = form.support_id
    if field.errors or not field.data:
        return None
    pepper = current_app.config["SUPPORT_ID_PEPPER"]
    normalized = support_ids.normalize(field.data)
    digest = support_ids.id_hash(pepper, normalized)
    return normalized, digest, client_key(pepper, request.remote_addr)


def _check_support_id(
    keys: tuple[str, str, str], conn: Connection
) -> support_ids.SupportId | queue.Refused:
    """The valid ID typed, or why not, in the submit's transaction (`FailedAttempts.check`:
    a client or ID with no attempt left is refused, a wrong ID is counted)."""
    normalized, digest, client = keys
    today = local_today(local_zone(current_app.config))

    def lookup() -> support_ids.SupportId | None:
        if not support_ids.is_valid_shape(normalized):
            return None
        return support_ids.find_valid(conn, digest, today)

    found = ratelimit.failed_attempts().check(conn, client=client, id_key=digest, lookup=lookup)
    if found is Refusal.WRONG:
        return queue.Refused(400, WRONG_ID)
    if found is Refusal.BLOCKED:
        return queue.Refused(429, BLOCKED)
    return found


def _title_from(text: str, limit: int = 60) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


_NOT_STORED_IN_FIELDS = {"csrf_token", "website", "support_id", "contact_email"}


def _idempotency_key(page: FormPage, form: RequestForm) -> str | None:
    """Who sent what from which form instance: HMAC of the form's CSRF token (one per page
    shown, tied to the session) and of everything typed. A double click or a replay of the
    same form sends the same; an edited form, or another page, does not. None without a
    token (CSRF checks off): nothing identifies the form instance then."""
    token = request.form.get("csrf_token", "")
    if not token:
        return None
    typed = {f.name: f.data for f in form if f.name not in ("csrf_token", "website")}
    message = json.dumps([page.form, token, typed], ensure_ascii=False, sort_keys=True)
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, message.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def _submission(
    page: FormPage, form: RequestForm, found: support_ids.SupportId
) -> queue.Submission:
    fields = {f.name: f.data for f in form if f.name not in _NOT_STORED_IN_FIELDS}
    if isinstance(form, FeedbackForm):
        product, title, body = form.product.data, form.title.data, form.description.data
    else:
        assert isinstance(form, DocsRequestForm)
        product, title, body = found.product, _title_from(form.missing.data), form.missing.data
    return queue.Submission(
        form=page.form,
        product=product,
        title=title,
        body=body,
        fields=fields,
        support_id_hash=found.id_hash,
        contact_email=form.contact_email.data or None,
        client_addr=(request.remote_addr or "")[:64] or None,
        idempotency_key=_idempotency_key(page, form),
    )


_QUESTION_PAGE = re.compile(r"^/faq/([a-z0-9]+(?:-[a-z0-9]+)*)/$")


def _prefill(form: RequestForm) -> None:
    """The docs form opened from a question's いいえ (``?page=/faq/<id>/``): the page's URL
    goes into 対象ページのURL when it is the path of a published question; anything else in
    the parameter is ignored (the field stays empty, no error)."""
    if not isinstance(form, DocsRequestForm):
        return
    value = request.args.get("page", "")
    found = _QUESTION_PAGE.fullmatch(value) if len(value) <= 100 else None
    if found and found.group(1) in questions.catalog(current_app.config["CONTENT_DIR"]):
        form.page_url.data = value


def _handle(page: FormPage) -> tuple[str, int] | Response:
    form = _make_form(page)
    if request.method == "GET":
        _prefill(form)
        return _render_form(page, form)
    if form.honeypot_filled():
        log.info("honeypot filled on %s from %s", page.form, request.remote_addr)
        return _render_form(page, form, status=400, message=HONEYPOT)
    fields_ok = form.validate()
    keys = _id_keys(form)
    if keys is None:
        return _render_form(page, form, status=400)

    def prepare(conn: Connection) -> queue.Submission | queue.Refused:
        # The ID is checked even when other fields are wrong, so its error shows too.
        found = _check_support_id(keys, conn)
        if isinstance(found, queue.Refused):
            return found
        return _submission(page, form, found) if fields_ok else queue.Refused(400, "")

    try:
        # One write transaction: failed-attempt check, ID lookup, insert (or failure count).
        result = queue.submit_checked(
            app_engine(), prepare, current_app.config["NOTIFY_SETTINGS"]
        )
    except (QueueUnavailable, AttemptsUnavailable) as exc:
        log.warning("submit refused, %s: %s", type(exc).__name__, exc)
        return _render_form(page, form, status=503, message=UNAVAILABLE)
    if isinstance(result, queue.Refused):
        if result.id_error:
            form.support_id.errors = [result.id_error]
        return _render_form(page, form, status=result.status)
    session["receipt"] = result
    # A bare 303: browsers follow it without showing a body, so none is built or sent.
    return Response(status=303, headers={"Location": url_for("public.thanks")})


@bp.get("/")
def index() -> str:
    return render_template("public/index.html")


@bp.route("/feedback/", methods=["GET", "POST"])
def feedback() -> tuple[str, int] | Response:
    return _handle(PAGES["feedback"])


@bp.route("/docs-request/", methods=["GET", "POST"])
def docs_request() -> tuple[str, int] | Response:
    return _handle(PAGES["docs"])


@bp.get("/thanks/")
def thanks() -> str | Response:
    receipt = session.get("receipt")
    if not receipt:
        return redirect(url_for("public.index"))
    return render_template("public/thanks.html", receipt=receipt)


@bp.get("/status/")
def status() -> tuple[str, int]:
    form = StatusForm(request.args)
    result = None
    code = 200
    if "receipt" in request.args and form.validate():
        receipt = parse_receipt(form.receipt.data)
        if receipt is None:
            form.receipt.errors = [BAD_RECEIPT]
            code = 400
        else:
            try:
                result = queue.public_status(app_engine(), receipt)
            except QueueUnavailable:
                abort(503)
            if result is None:
                form.receipt.errors = [NOT_FOUND_RECEIPT]
                code = 404
    elif "receipt" in request.args:
        code = 400
    label = None
    if result is not None and result.status in STATUS_LABELS:
        label = (STATUS_LABELS[result.status], STATUS_DESCRIPTIONS.get(result.status, ""))
    zone = local_zone(current_app.config)
    page = render_template("public/status.html", form=form, result=result, label=label, zone=zone)
    return page, code


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _bench_noop() -> tuple[str, int]:
    """POST that does nothing: the baseline of bench/bench_forms.py (BENCH config only).

    It goes through the app's global CSRF check like every POST of the app.
    """
    return "", 204


def _bench_noop_bare() -> tuple[str, int]:
    """The same no-op exempt from the CSRF check (printed by the bench for comparison)."""
    return "", 204


# ---------------------------------------------------------------- errors


def rerender_posted_form(status: int, message: str) -> tuple[str, int] | None:
    """The posted request form again with `message` (nothing stored), or None when the
    request is not a POST of one of the two forms (app-wide error handlers, forms_app.errors).
    """
    if request.method != "POST":
        return None
    page = PAGE_BY_ENDPOINT.get(request.endpoint or "")
    if page is None:
        return None
    # Rebuild the form from what was posted, without validating.
    form = _make_form(page, formdata=request.form)
    return _render_form(page, form, status=status, message=message)


def init_app(app: Flask) -> None:
    """Register the public blueprint with its rate limits (and the bench's no-op routes)."""
    app.register_blueprint(bp)
    limiter = ratelimit.limiter(app)
    # One budget for both forms' POSTs (the blueprint's only POST routes). As a blueprint
    # limit it is checked once, by Flask-Limiter's before-request hook.
    limiter.shared_limit(
        lambda: current_app.config["SUBMIT_RATE_LIMIT"], scope="submit", methods=["POST"]
    )(bp)
    limited: Any = limiter.limit(lambda: current_app.config["STATUS_RATE_LIMIT"])(status)
    app.view_functions["public.status"] = limited
    if app.config["BENCH"]:
        app.add_url_rule("/_bench/noop", "bench_noop", _bench_noop, methods=["POST"])
        app.add_url_rule("/_bench/noop-bare", "bench_noop_bare", _bench_noop_bare, methods=["POST"])
        app.extensions["csrf"].exempt(_bench_noop_bare)
    app.jinja_env.globals["field_attrs"] = field_attrs
    app.jinja_env.globals["local_date"] = local_date_text


def field_attrs(field: Any, *, describe: bool = True, has_hint: bool = False) -> dict[str, str]:
    """ARIA attributes tying a field to its hint and error messages (for templates)."""
    ids = []
    if field.description or has_hint:
        ids.append(f"{field.id}-hint")
    if field.errors:
        ids.append(f"{field.id}-error")
    attrs: dict[str, str] = {}
    if ids and describe:
        attrs["aria-describedby"] = " ".join(ids)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return attrs
