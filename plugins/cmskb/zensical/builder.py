"""Build the site with Zensical: export the project, `zensical build`, then our search index."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cmskb.content.model import Content
from cmskb.frame import FrameError, finish_site
from cmskb.search.index import IndexStats
from cmskb.search.site import index_site

from .project import ExportStats, export_project

# Tested range (pyproject.toml's `zensical` extra); see deploy/zensical.md for why.
SUPPORTED = ">=0.0.73,<0.0.74"


class BuildError(RuntimeError):
    """Zensical is missing or its build failed (the message says which)."""


@dataclass(frozen=True, slots=True)
class BuildResult:
    export: ExportStats
    search: IndexStats | None
    site_dir: Path


def zensical_command() -> list[str]:
    """How to run Zensical: the script beside this Python, else ``python -m zensical``."""
    script = Path(sys.executable).with_name("zensical")
    if script.exists():
        return [str(script)]
    try:
        import zensical  # noqa: F401
    except ImportError:
        raise BuildError(
            "Zensical is not installed: pip install 'cmskit-support-kb[zensical]' "
            f"(zensical{SUPPORTED})"
        ) from None
    return [sys.executable, "-m", "zensical"]


def build(
    content: Content,
    config_file: Path,
    project_dir: Path,
    site_dir: Path | None = None,
    *,
    search: bool = True,
) -> BuildResult:
    """Export `content` as a Zensical project in `project_dir`, build it, index it.

    The site is built in ``project_dir/site`` (Zensical keeps it inside the project) and,
    when `site_dir` is another folder, moved there, replacing what was there.
    """
    project_dir = project_dir.resolve()
    stats = export_project(content, config_file, project_dir)
    command = [*zensical_command(), "build", "--strict", "-f", str(project_dir / "mkdocs.yml")]
    result = subprocess.run(
        command, cwd=project_dir, capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    if result.returncode != 0:
        raise BuildError(f"zensical build failed:\n{result.stdout}{result.stderr}")
    built = project_dir / "site"
    try:
        finish_site(built, forms_base=content.site.forms.base)
    except FrameError as exc:
        raise BuildError(f"zensical build made no usable frame: {exc}") from exc
    index = index_site(built, content.search) if search else None
    target = built
    if site_dir is not None and site_dir.resolve() != built.resolve():
        target = _replace(built, site_dir)
    return BuildResult(export=stats, search=index, site_dir=target)


def _replace(built: Path, site_dir: Path) -> Path:
    """Put a copy of `built` at `site_dir` (the old `site_dir` goes only once it is whole)."""
    staging = site_dir.with_name(site_dir.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(built, staging)
    if site_dir.exists():
        shutil.rmtree(site_dir)
    staging.rename(site_dir)
    return site_dir
