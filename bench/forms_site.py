"""The built site whose frame the forms sidecar renders its pages in, for the benches that
start the sidecar with production settings (which refuse to start without it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRAME = Path("site-frame") / "index.html"  # cmskb.frame.FRAME_FILE


def built_site() -> Path:
    """The repository's `site/`, built with `mkdocs build --strict` first if it has no frame."""
    site = ROOT / "site"
    if not (site / FRAME).is_file():
        mkdocs = Path(sys.executable).with_name("mkdocs")
        print("building site/ for the sidecar's frame ...", flush=True)
        subprocess.run(
            [str(mkdocs), "build", "--strict", "--quiet", "--site-dir", str(site)],
            cwd=ROOT, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, check=True,
        )
    return site
