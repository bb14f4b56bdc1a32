"""The customer pages' frame: the built site's own header, tabs, search and footer.

The site build writes a frame page (`cmskb.frame`: ``site-frame/index.html`` under
``SITE_DIR``); `FrameLoader` reads it once per process, cuts it with `cmskb.frame.parse_frame`
and reads it again when the file changes (a new build), so a theme or navigation change
reaches the forms without a restart. While a build is rewriting the site, the last good
frame is kept. The templates call ``site_frame()`` (templates/site_page.html); the inline
scripts of that frame (Material's palette and storage helpers) are allowed by their hashes
in the page's Content-Security-Policy (forms_app.security), nothing else inline is.

At start (`init_app`): outside development and testing a missing or broken frame stops the
start with a ConfigError naming ``CMSKIT_FORMS_SITE_DIR`` (customers must never get pages
without the site's frame); in development and testing, and for the command line, the app
falls back to a plain frame packaged here (templates/fallback_frame.html) and logs a
warning. The pages the frame links the forms to (the support-ID question, the example
question) must exist in the built site: checked on every load.
"""

from __future__ import annotations

import logging
import os
import threading
from importlib import resources
from pathlib import Path

from cmskb.frame import FRAME_FILE, Frame, FrameError, parse_frame
from flask import Flask, current_app, g

from forms_app.config import ENV_PREFIX, ConfigError, is_development

log = logging.getLogger(__name__)

EXTENSION = "site_frame"
FALLBACK = "fallback_frame.html"


class FrameLoader:
    """The built frame of `site_dir`, cached and reloaded when its file changes."""

    def __init__(self, site_dir: Path, section: str) -> None:
        self.site_dir = site_dir
        self.path = site_dir / FRAME_FILE
        self.section = section
        self._lock = threading.Lock()
        self._frame: Frame | None = None
        self._stamp: tuple[int, int] | None = None
        self.fallback = False

    def _stat(self) -> tuple[int, int] | None:
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return info.st_mtime_ns, info.st_size

    def load(self) -> Frame:
        """Read and check the built frame now (FrameError when it is missing or wrong)."""
        stamp = self._stat()
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise FrameError(
                f"no built frame at {self.path} ({exc.strerror or exc})"
            ) from None
        frame = parse_frame(text, section=self.section)
        for name, url in frame.links.items():
            page = self.site_dir / url.strip("/") / "index.html"
            if not page.is_file():
                raise FrameError(f"the frame links the forms to {url} ({name}), "
                                 f"which the built site in {self.site_dir} does not have")
        with self._lock:
            self._frame, self._stamp, self.fallback = frame, stamp, False
        return frame

    def use_fallback(self) -> Frame:
        """The plain packaged frame (development, testing, the command line)."""
        text = (resources.files("forms_app") / "templates" / FALLBACK).read_text("utf-8")
        frame = parse_frame(text, section=self.section)
        with self._lock:
            self._frame, self._stamp, self.fallback = frame, None, True
        return frame

    def frame(self) -> Frame:
        """The current frame: read again when the built file changed since the last read."""
        current = self._frame or self.use_fallback()
        stamp = self._stat()
        if stamp is None or stamp == self._stamp:
            return current  # unchanged, or a build is rewriting the site: keep the last one
        try:
            return self.load()
        except FrameError as exc:
            log.warning("keeping the previous site frame: %s", exc)
            with self._lock:
                self._stamp = stamp  # do not retry on every request until it changes again
            return current


def init_app(app: Flask, *, required: bool = True) -> FrameLoader:
    """Load the frame at start (see the module's docstring for what a missing one does)."""
    root = str(app.config.get("APPLICATION_ROOT") or "/").rstrip("/") + "/"
    loader = FrameLoader(Path(str(app.config["SITE_DIR"])).resolve(), root)
    try:
        loader.load()
    except FrameError as exc:
        if required and not is_development(app.config):
            raise ConfigError(
                f"forms sidecar refuses to start: {ENV_PREFIX}_SITE_DIR: {exc}. Build the "
                "site first (mkdocs build --strict, or cmskb build --builder zensical) and "
                f"point {ENV_PREFIX}_SITE_DIR at it (the folder that holds {FRAME_FILE})."
            ) from exc
        if required:
            log.warning("site frame not used, pages get a plain frame: %s", exc)
        loader.use_fallback()
    app.extensions[EXTENSION] = loader
    app.jinja_env.globals["site_frame"] = site_frame
    return loader


def site_frame() -> Frame:
    """The frame for the page being rendered; its scripts' hashes go into the page's CSP."""
    loader: FrameLoader = current_app.extensions[EXTENSION]
    frame = loader.frame()
    g.frame_script_hashes = frame.script_hashes
    return frame
