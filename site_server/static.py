"""A tiny WSGI app that serves a built MkDocs site the way a static web server would.

Directory URLs get their ``index.html``; a directory without its trailing slash is
redirected to it (relative links in MkDocs pages need the slash); a missing path gets the
site's own ``404.html`` with status 404. Only GET and HEAD are allowed. Files are sent with
Werkzeug's ``send_file`` (ETag, Last-Modified, conditional and range requests). A file the
build precompressed (``x.bin.gz`` beside ``x.bin``, as the search index has) is sent
compressed to a client that accepts gzip, as nginx's ``gzip_static`` does.
"""

from __future__ import annotations

import io
import mimetypes
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from werkzeug.security import safe_join
from werkzeug.utils import redirect, send_file
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import ClosingIterator

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

# Types MkDocs sites ship that some platforms' mimetypes tables lack.
mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("image/svg+xml", ".svg")
mimetypes.add_type("application/javascript", ".js")
mimetypes.add_type("application/xml", ".xml")

_NOT_FOUND_TEXT = "404 Not Found"


class StaticSite:
    """WSGI app serving the files under `root` (a built site)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        if not (self.root / "index.html").is_file():
            raise FileNotFoundError(f"{self.root} has no index.html: build the site first")

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        response = self._respond(request)
        return ClosingIterator(response(environ, start_response), response.close)

    def _respond(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response("405 Method Not Allowed", status=405, headers={"Allow": "GET, HEAD"})
        target = self._resolve(request.path)
        if target is None:
            return self._not_found(request)
        if target.is_dir():
            if not request.path.endswith("/"):
                query = request.query_string.decode("latin-1")
                location = request.script_root + request.path + "/"
                return redirect(location + (f"?{query}" if query else ""), code=301)
            target = target / "index.html"
            if not target.is_file():
                return self._not_found(request)
        return self._send(request, target)

    def _resolve(self, url_path: str) -> Path | None:
        """The file or directory for `url_path`, or None when it does not exist or escapes."""
        relative = url_path.lstrip("/")
        joined = safe_join(str(self.root), relative) if relative else str(self.root)
        if joined is None:
            return None
        path = Path(joined)
        return path if path.exists() else None

    def _send(self, request: Request, path: Path, status: int = 200) -> Response:
        # The file is read whole (site files are small): Werkzeug's development server can
        # skip closing an open file when a client drops the connection.
        packed = path.with_name(path.name + ".gz")
        accepted = request.accept_encodings["gzip"] > 0
        gzipped = accepted and status == 200 and packed.is_file()
        source = packed if gzipped else path
        stat = source.stat()
        response = send_file(
            io.BytesIO(source.read_bytes()),
            request.environ,
            mimetype=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            download_name=path.name,
            as_attachment=False,
            conditional=status == 200,
            etag=f"{stat.st_mtime_ns:x}-{stat.st_size:x}",
            last_modified=stat.st_mtime,
            max_age=0,
        )
        if status != 200:
            response.status_code = status
        if gzipped:
            response.headers["Content-Encoding"] = "gzip"
        if packed.is_file():
            response.vary.add("Accept-Encoding")
        if path.suffix == ".html":
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        return response

    def _not_found(self, request: Request) -> Response:
        page = self.root / "404.html"
        if page.is_file():
            return self._send(request, page, status=404)
        return Response(_NOT_FOUND_TEXT, status=404, mimetype="text/plain")
