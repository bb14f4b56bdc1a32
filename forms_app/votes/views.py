"""The votes blueprint under ``/forms/votes/`` (JSON only, for docs/javascripts/kb-votes.js).

- ``GET /votes/<question>``: this browser's vote and a CSRF token; ``no-store``, so the
  static question page stays cacheable while the token is per browser.
- ``POST /votes/<question>`` with ``{"vote": "yes" | "no"}``: record or change the vote.
- ``GET /votes/popular.json``: the most helpful questions; the same for everybody, cached
  for `POPULAR_MAX_AGE` seconds.

CSRF: the question page is static and cannot carry a token, so the script fetches one with
the vote (Flask-WTF's session token, the forms' own mechanism, checked by the app-wide
CSRFProtect from the ``X-CSRFToken`` header, including its HTTPS Referer check). On top, a
vote must be JSON (a cross-site HTML form cannot send it, and a cross-site script cannot
without a CORS preflight that nothing here answers) and, when the browser says where it
comes from (``Sec-Fetch-Site``, ``Origin``), from this origin. The voter cookie is
SameSite=Strict. Every answer is JSON with a Japanese `message` on failure.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from cmskb.content.fields import ID_MAX, ID_RE
from flask import Blueprint, Flask, current_app, jsonify, request
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from forms_app import ratelimit
from forms_app.storage.db import app_engine
from forms_app.storage.errors import DATABASE_DOWN, first_line
from forms_app.votes import questions, store, voter

log = logging.getLogger(__name__)
bp = Blueprint("votes", __name__, url_prefix="/votes")

POPULAR_MAX_AGE = 300  # seconds popular.json may be cached (browsers and proxies)
POPULAR_LIMIT = 5
THANKS = "ご回答ありがとうございました。"
UNKNOWN_QUESTION = "このご質問は見つかりませんでした。"
BAD_VOTE = "「はい」か「いいえ」を選んでください。"
FOREIGN = "このサイトのページからだけ回答できます。"
CSRF_FAILED = (
    "ページの有効期限が切れたか、送信元を確認できませんでした。ページを開き直してください。"
)
RATE_LIMITED = (
    "短い時間に回答が続いたため、記録できませんでした。しばらく待ってからもう一度お試しください。"
)
UNAVAILABLE = "ただいま回答を記録できません。少し待ってからもう一度お試しください。"
FAILED = "回答を記録できませんでした。ページを開き直してお試しください。"

VOTES = {"yes": True, "no": False}


def _answer(data: dict[str, Any], status: int = 200, *, cache: str = "no-store") -> Response:
    response = jsonify(data)
    response.status_code = status
    response.headers["Cache-Control"] = cache
    return response


def _problem(status: int, message: str, **extra: Any) -> Response:
    return _answer({"message": message, **extra}, status)


def _question_or_none(question_id: str) -> str | None:
    if len(question_id) > ID_MAX or not ID_RE.fullmatch(question_id):
        return None
    found = questions.catalog(current_app.config["CONTENT_DIR"])
    return question_id if question_id in found else None


def _same_origin() -> bool:
    """False when the browser says the request comes from another site or origin."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site != "same-origin":
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser, or one that says nothing: the CSRF token decides
    allowed = {request.host_url.rstrip("/")}
    site = urlsplit(str(current_app.config.get("SITE_URL") or ""))
    if site.scheme and site.netloc:
        allowed.add(f"{site.scheme}://{site.netloc}")
    return origin.rstrip("/") in allowed


def _vote_name(helpful: bool | None) -> str | None:
    return None if helpful is None else ("yes" if helpful else "no")


@bp.get("/popular.json")
def popular() -> Response:
    """The most helpful questions: id, title, url, はい and いいえ counts."""
    min_yes = int(current_app.config["VOTE_POPULAR_MIN_YES"])
    found = questions.catalog(current_app.config["CONTENT_DIR"])
    live = [t for t in store.tallies(app_engine()) if t.question_id in found]
    site_url = str(current_app.config.get("SITE_URL") or "")
    items = [
        {
            "id": t.question_id,
            "title": found.title(t.question_id),
            "url": questions.page_path(site_url, t.question_id),
            "yes": t.yes,
            "no": t.no,
        }
        for t in store.most_helpful(live, min_yes=min_yes, limit=POPULAR_LIMIT)
    ]
    return _answer(
        {"questions": items, "min_yes": min_yes}, cache=f"public, max-age={POPULAR_MAX_AGE}"
    )


@bp.get("/<question_id>")
def state(question_id: str) -> Response:
    """This browser's vote on the question and a CSRF token for casting one."""
    qid = _question_or_none(question_id)
    if qid is None:
        return _problem(404, UNKNOWN_QUESTION)
    who = voter.current_id()
    vote = store.vote_of(app_engine(), qid, voter.voter_key(who)) if who else None
    return _answer({"question": qid, "vote": _vote_name(vote), "token": generate_csrf()})


@bp.post("/<question_id>")
def cast(question_id: str) -> Response:
    """Record (or change) this browser's vote; the CSRF token was checked before."""
    if not _same_origin():
        log.info("vote refused: foreign origin %r", request.headers.get("Origin"))
        return _problem(403, FOREIGN)
    if not request.is_json:
        return _problem(415, BAD_VOTE)
    qid = _question_or_none(question_id)
    if qid is None:
        return _problem(404, UNKNOWN_QUESTION)
    body = request.get_json(silent=True)
    choice = body.get("vote") if isinstance(body, dict) else None
    if not isinstance(choice, str) or choice not in VOTES:
        return _problem(400, BAD_VOTE)
    who = voter.current_id() or voter.new_id()
    store.cast(app_engine(), qid, voter.voter_key(who), VOTES[choice])
    response = _answer({"question": qid, "vote": choice, "message": THANKS})
    voter.set_cookie(response, who)
    return response


@bp.errorhandler(CSRFError)
def _csrf_failed(error: CSRFError) -> Response:
    log.info("vote CSRF rejected on %s: %s", request.path, error.description)
    return _problem(400, CSRF_FAILED, csrf=True)


@bp.errorhandler(429)
def _rate_limited(error: HTTPException) -> Response:
    return _problem(429, RATE_LIMITED)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    return _problem(status, UNKNOWN_QUESTION if status == 404 else FAILED)


def _database_down(error: Exception) -> Response:
    log.error("votes: queue database unavailable: %s", first_line(error))
    response = _problem(503, UNAVAILABLE)
    response.headers["Retry-After"] = "30"
    return response


for _error in DATABASE_DOWN:
    bp.register_error_handler(_error, _database_down)


def init_app(app: Flask) -> None:
    """Register the blueprint with its rate limits (per client, like the forms)."""
    app.register_blueprint(bp)
    limiter = ratelimit.limiter(app)
    limited: Any = limiter.limit(lambda: current_app.config["VOTE_RATE_LIMIT"])(cast)
    app.view_functions["votes.cast"] = limited
    reads: Any = limiter.limit(lambda: current_app.config["VOTE_STATE_RATE_LIMIT"])(state)
    app.view_functions["votes.state"] = reads
