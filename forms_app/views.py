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
from flask_wtf.csrf import CSRFError
from sqlalchemy import Connection
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from . import attempts, inputs, queue, support_ids
from .forms import DocsRequestForm, FeedbackForm, RequestForm, StatusForm
from .labels import STATUS_LABELS
from .receipts import parse_receipt
from .timeutil import local_today, local_zone

log = logging.getLogger(__name__)
bp = Blueprint("public", __name__)

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
    "feedback": FormPage("feedback", "public.feedback", "feedback.html", FeedbackForm),
    "docs": FormPage("docs", "public.docs_request", "docs_request.html", DocsRequestForm),
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
    return normalized, digest, attempts.client_key(pepper, request.remote_addr)


def _check_support_id(
    form: RequestForm, keys: tuple[str, str, str], conn: Connection
) -> tuple[support_ids.SupportId | None, int]:
    """Look the typed ID up in the submit's transaction; put the error beside the field.

    Returns (valid ID, status). A wrong ID is counted first and compared after, so parallel
    guesses get at most the limit of "wrong ID" answers; the others are told to wait.
    """
    counter = attempts.attempts()
    normalized, digest, client = keys
    today = local_today(local_zone(current_app.config))
    found, blocked = None, False
    if support_ids.is_valid_shape(normalized):
        if counter.in_queue:  # the counts come with the ID's row
            found, blocked = support_ids.find_valid_counted(conn, digest, today, counter, client)
        else:  # Redis counts were read before the transaction
            found = support_ids.find_valid(conn, digest, today)
    if not blocked and found is None:
        in_queue = conn if counter.in_queue else None
        blocked = not counter.fail(client=client, id_key=digest, conn=in_queue)
        if not blocked:
            form.support_id.errors = [WRONG_ID]
            return None, 400
    if blocked:
        form.support_id.errors = [BLOCKED]
        return None, 429
    return found, 200


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


def _handle(page: FormPage) -> tuple[str, int] | Response:
    form = _make_form(page)
    if request.method == "GET":
        return _render_form(page, form)
    if form.honeypot_filled():
        log.info("honeypot filled on %s from %s", page.form, request.remote_addr)
        return _render_form(page, form, status=400, message=HONEYPOT)
    fields_ok = form.validate()
    keys = _id_keys(form)
    if keys is None:
        return _render_form(page, form, status=400)
    counter = attempts.attempts()
    status = 400

    def prepare(conn: Connection) -> queue.Submission | None:
        # The ID is checked even when other fields are wrong, so its error shows too.
        nonlocal status
        found, status = _check_support_id(form, keys, conn)
        return _submission(page, form, found) if fields_ok and found is not None else None

    try:
        if not counter.in_queue and counter.blocked(client=keys[2], id_key=keys[1]):
            form.support_id.errors = [BLOCKED]
            return _render_form(page, form, status=429)
        # One write transaction: failed-attempt check, ID lookup, insert (or failure count).
        receipt = queue.submit_checked(queue.app_engine(), prepare)
    except (queue.QueueUnavailable, attempts.AttemptsUnavailable) as exc:
        log.warning("submit refused, %s: %s", type(exc).__name__, exc)
        return _render_form(page, form, status=503, message=UNAVAILABLE)
    if receipt is None:
        return _render_form(page, form, status=max(status, 400))
    session["receipt"] = receipt
    # A bare 303: browsers follow it without showing a body, so none is built or sent.
    return Response(status=303, headers={"Location": url_for("public.thanks")})


@bp.get("/")
def index() -> str:
    return render_template("index.html")


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
    return render_template("thanks.html", receipt=receipt)


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
                result = queue.public_status(queue.app_engine(), receipt)
            except queue.QueueUnavailable:
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
    return render_template("status.html", form=form, result=result, label=label, zone=zone), code


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


def _form_page_for_request() -> FormPage | None:
    if request.method != "POST":
        return None
    return PAGE_BY_ENDPOINT.get(request.endpoint or "")


def _rerender_or_page(
    status: int, form_message: str, page_message: str, title: str
) -> tuple[str, int]:
    """The posted request form again with `form_message`, or a plain page elsewhere."""
    page = _form_page_for_request()
    if page is not None:
        # Rebuild the form from what was posted, without validating (nothing is stored).
        form = _make_form(page, formdata=request.form)
        return _render_form(page, form, status=status, message=form_message)
    return render_template("error.html", title=title, message=page_message), status


BAD_QUERY_TITLE = "アドレスを確認してください"
BAD_QUERY = "ページのアドレス(URL)の値を読み取れませんでした。"


# A run of percent-escaped bytes >= 0x80: every multi-byte UTF-8 character lies inside one.
_HIGH_ESCAPES = re.compile(rb"(?:%[89a-fA-F][0-9a-fA-F])+")


def _is_utf8(raw: bytes) -> bool:
    """True when percent-encoded `raw` (a query string, a form body) decodes as UTF-8.

    Werkzeug keeps an invalid byte as the text ``%FF``, so the rule on decoded text never
    sees it: the raw bytes are checked here (ASCII between the runs is always valid).
    """
    try:
        raw.decode("utf-8")
        for run in _HIGH_ESCAPES.findall(raw):
            bytes.fromhex(run.replace(b"%", b"").decode("ascii")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _check_request() -> tuple[str, int] | None:
    """Runs before everything else (CSRF included): the body's size and the one input rule.

    A body sent without Content-Length (chunked) is read here, up to MAX_CONTENT_LENGTH: one
    byte more is a 413, as with a Content-Length over the limit (Werkzeug would otherwise
    parse the first MAX_CONTENT_LENGTH bytes as if they were everything). Then invalid UTF-8
    in the query string or a form body, and `inputs.problem` on every query parameter (name
    and value) of every route: a Japanese 400, the posted form shown again.
    """
    if request.content_length is None and request.method in ("POST", "PUT", "PATCH"):
        request.get_data(cache=True)
        request.stream.read(1)  # raises RequestEntityTooLarge when the limit was reached
    damaged = not _is_utf8(request.query_string)
    if not damaged and request.mimetype == "application/x-www-form-urlencoded":
        damaged = not _is_utf8(request.get_data(cache=True))
    if damaged:
        text = f"送信内容を読み取れませんでした。{inputs.DAMAGED_MESSAGE}"
        return _rerender_or_page(400, text, text, BAD_QUERY_TITLE)
    for name, value in request.args.items(multi=True):
        message = inputs.problem(name, limit=100) or inputs.problem(
            value, limit=inputs.MAX_QUERY_CHARS
        )
        if message is not None:
            text = f"{BAD_QUERY}{message}"
            return _rerender_or_page(400, text, text, BAD_QUERY_TITLE)
    return None


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    log.info("CSRF rejected on %s: %s", request.path, error.description)
    return _rerender_or_page(400, CSRF_FAILED, CSRF_FAILED_PAGE, "送信を確認できませんでした")


def _rate_limited(error: HTTPException) -> tuple[str, int]:
    return _rerender_or_page(429, RATE_LIMITED, RATE_LIMITED_PAGE, "しばらくお待ちください")


def _too_large(error: HTTPException) -> tuple[str, int]:
    limit = current_app.config["MAX_CONTENT_LENGTH"] // 1024
    message = (
        f"送信内容が大きすぎるため受け付けられませんでした(上限 {limit} KiB)。"
        "ブラウザの「戻る」で入力画面に戻り、長い欄を短くしてから送信してください。"
    )
    return render_template("error.html", title="送信内容が大きすぎます", message=message), 413


# status: (title, message) of the plain Japanese error pages.
ERROR_PAGES = {
    400: (
        "リクエストを処理できませんでした",
        "送信内容を読み取れませんでした。ページを開き直してお試しください。",
    ),
    404: ("ページが見つかりません", "お探しのページは見つかりませんでした。"),
    405: ("この操作はできません", "このページではその操作を受け付けていません。"),
    500: ("エラーが発生しました", "申し訳ありません。時間をおいてもう一度お試しください。"),
    503: ("ただいま混み合っています", "少し待ってから、もう一度お試しください。"),
}


def _error_page(error: Exception) -> tuple[str, int]:
    code = error.code if isinstance(error, HTTPException) and error.code else 500
    title, message = ERROR_PAGES.get(code, ERROR_PAGES[500])
    return render_template("error.html", title=title, message=message), code


def init_app(app: Flask) -> None:
    """Register the public blueprint, its rate limits and the Japanese error pages."""
    app.register_blueprint(bp)
    limiter = attempts.limiter(app)
    # One budget for both forms' POSTs (the blueprint's only POST routes). As a blueprint
    # limit it is checked once, by Flask-Limiter's before-request hook; decorating the two
    # views would run that hook (which finds nothing) and then a second check in the view.
    limiter.shared_limit(
        lambda: current_app.config["SUBMIT_RATE_LIMIT"], scope="submit", methods=["POST"]
    )(bp)
    app.view_functions["public.status"] = limiter.limit(
        lambda: current_app.config["STATUS_RATE_LIMIT"]
    )(app.view_functions["public.status"])
    if app.config.get("BENCH"):
        app.add_url_rule("/_bench/noop", "bench_noop", _bench_noop, methods=["POST"])
        app.add_url_rule("/_bench/noop-bare", "bench_noop_bare", _bench_noop_bare, methods=["POST"])
        app.extensions["csrf"].exempt(_bench_noop_bare)
    # First of all before-request hooks: CSRFProtect and Flask-Limiter read the form too.
    app.before_request_funcs.setdefault(None, []).insert(0, _check_request)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(429, _rate_limited)
    app.register_error_handler(413, _too_large)
    for code in ERROR_PAGES:
        app.register_error_handler(code, _error_page)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _site() -> dict[str, Any]:
        site = app.config["SITE"]
        return {"site_name": site.name}

    app.jinja_env.globals["field_attrs"] = field_attrs


def field_attrs(field: Any, *, describe: bool = True) -> dict[str, str]:
    """ARIA attributes tying a field to its hint and error messages (for templates)."""
    ids = []
    if field.description:
        ids.append(f"{field.id}-hint")
    if field.errors:
        ids.append(f"{field.id}-error")
    attrs: dict[str, str] = {}
    if ids and describe:
        attrs["aria-describedby"] = " ".join(ids)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return attrs
