"""Who a limit counts: the client's address (IPv4) or /64 network (IPv6).

One subscriber usually holds a whole IPv6 /64, so rotating addresses inside it must not
reset the count.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time

from flask import request

log = logging.getLogger(__name__)


def client_scope(address: str | None) -> str:
    """Who a limit counts: the IPv4 address, or the /64 network of an IPv6 address.

    An IPv4-mapped IPv6 address counts as its IPv4 address; anything that is not an
    address (a test client, a Unix socket) is used as it is.
    """
    raw = address or ""
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def request_client() -> str:
    """Flask-Limiter's key function: `client_scope` of the request's address."""
    return client_scope(request.remote_addr)


FORWARDED_WARNING_EVERY = 600.0  # seconds between two warnings of one process


class ForwardedForWarning:
    """Logs (at most every `FORWARDED_WARNING_EVERY` seconds) when a request carries
    X-Forwarded-For while ``PROXY_COUNT`` is 0: a proxy is in front but not trusted, so every
    client counts as the proxy's address and shares its limits."""

    def __init__(self) -> None:
        self._next = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> None:
        if "X-Forwarded-For" not in request.headers or time.monotonic() < self._next:
            return
        with self._lock:
            if time.monotonic() < self._next:
                return
            self._next = time.monotonic() + FORWARDED_WARNING_EVERY
        log.warning(
            "X-Forwarded-For received from %s but CMSKIT_FORMS_PROXY_COUNT is 0: every client "
            "counts as that address and shares its rate limits; set PROXY_COUNT to the number "
            "of proxies in front (1 for deploy/nginx.conf)",
            request.remote_addr,
        )
