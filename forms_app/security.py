"""Security headers for every response of the sidecar.

The referrer policy is ``same-origin``: browsers still send the full Referer on our own
POSTs, which Flask-WTF's HTTPS check (``WTF_CSRF_SSL_STRICT``) requires to match the host,
and send nothing to other sites. ``no-referrer`` would make every HTTPS form post fail.
"""

from __future__ import annotations

from flask import Flask, Response, g

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def policy(script_hashes: tuple[str, ...] = ()) -> str:
    """The CSP, allowing these inline scripts (by hash) beside the app's own files.

    A page in the site's frame (forms_app.frame) carries Material's small inline scripts
    (storage helpers, palette); only exactly those are allowed, never 'unsafe-inline'.
    """
    if not script_hashes:
        return CSP
    return CSP.replace("script-src 'self'", "script-src 'self' " + " ".join(script_hashes), 1)


def add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        if name == "Content-Security-Policy":
            value = policy(g.get("frame_script_hashes", ()))
        response.headers.setdefault(name, value)
    # Pages hold a CSRF token and what a person typed: never cache them.
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
