"""App-wide request checks and error pages, in Japanese (registered by `create_app`).

`check_request` runs before every other before-request hook (CSRFProtect and Flask-Limiter
read the form too): the body's size and the one input rule (forms_app.inputs) on every query
parameter of every route. The error handlers answer every HTTP error, a failed CSRF check,
a rate limit and an unreachable queue database with a Japanese page; on a POST of one of
the two request forms, the form comes back with everything typed instead.
"""

from __future__ import annotations

import logging
import re

from cmskb.formats import number_ja
from flask import current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from forms_app import inputs
from forms_app.public.views import (
    CSRF_FAILED,
    CSRF_FAILED_PAGE,
    RATE_LIMITED,
    RATE_LIMITED_PAGE,
    rerender_posted_form,
)
from forms_app.storage.errors import first_line

log = logging.getLogger(__name__)

UNAVAILABLE_TITLE = "ただいま利用できません"
UNAVAILABLE = (
    "リクエストを保管しているデータベースに接続できませんでした。"
    "少し待ってから、もう一度お試しください。"
)


def _form_or_page(
    status: int, form_message: str, page_message: str, title: str
) -> tuple[str, int]:
    """The posted request form again with `form_message`, or a plain page elsewhere."""
    again = rerender_posted_form(status, form_message)
    if again is not None:
        return again
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


def check_request() -> tuple[str, int] | None:
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
        return _form_or_page(400, text, text, BAD_QUERY_TITLE)
    for name, value in request.args.items(multi=True):
        message = inputs.problem(name, limit=100) or inputs.problem(
            value, limit=inputs.MAX_QUERY_CHARS
        )
        if message is not None:
            text = f"{BAD_QUERY}{message}"
            return _form_or_page(400, text, text, BAD_QUERY_TITLE)
    return None


def csrf_error(error: CSRFError) -> tuple[str, int]:
    log.info("CSRF rejected on %s: %s", request.path, error.description)
    return _form_or_page(400, CSRF_FAILED, CSRF_FAILED_PAGE, "送信を確認できませんでした")


def rate_limited(error: HTTPException) -> tuple[str, int]:
    return _form_or_page(429, RATE_LIMITED, RATE_LIMITED_PAGE, "しばらくお待ちください")


def too_large(error: HTTPException) -> tuple[str, int]:
    limit = current_app.config["MAX_CONTENT_LENGTH"] // 1024
    message = (
        f"送信内容が大きすぎるため受け付けられませんでした(上限 {number_ja(limit)} KiB)。"
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


def error_page(error: Exception) -> tuple[str, int]:
    code = error.code if isinstance(error, HTTPException) and error.code else 500
    title, message = ERROR_PAGES.get(code, ERROR_PAGES[500])
    return render_template("error.html", title=title, message=message), code


def database_down(error: Exception) -> tuple[str, int, dict[str, str]]:
    """The queue database is down, restarting or overloaded: a 503 to try again later."""
    current_app.logger.error("queue database unavailable: %s", first_line(error))
    page = render_template("error.html", title=UNAVAILABLE_TITLE, message=UNAVAILABLE)
    return page, 503, {"Retry-After": "30", "Cache-Control": "no-store"}
