"""The session cookie: Flask's signed cookie, without compression, with one serializer.

Flask's `SecureCookieSessionInterface` builds a new itsdangerous serializer for every
request (once to read the cookie, once more to write it) and tries ``zlib`` on every
payload it writes. Our session holds a CSRF token and at most a receipt number, about a
hundred bytes of hex and base32 that deflate cannot shrink, so the attempt only costs time
(zlib sets up its window and tables each call; bench/README.md). This interface keeps one
serializer per set of keys and writes the payload as plain URL-safe base64. Cookies written
compressed by earlier versions still load: itsdangerous recognises them by their leading
dot.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode


class UncompressedSerializer(URLSafeTimedSerializer):
    """`URLSafeTimedSerializer` that never tries zlib on what it writes."""

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(self.serializer.dumps(obj, **self.serializer_kwargs))


class CookieSessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions with a cached, non-compressing serializer."""

    def __init__(self) -> None:
        self._cached: tuple[tuple[Any, ...], URLSafeTimedSerializer] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        if not app.secret_key:
            return None
        # itsdangerous expects the current key last; fallbacks are only read.
        keys = (*(app.config.get("SECRET_KEY_FALLBACKS") or ()), app.secret_key)
        cached = self._cached
        if cached is not None and cached[0] == keys:
            return cached[1]
        serializer = UncompressedSerializer(
            list(keys),
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )
        self._cached = (keys, serializer)
        return serializer
