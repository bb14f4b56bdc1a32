"""`cmskb build` and `cmskb serve`: the site with MkDocs (the default) or with Zensical.

With ``--builder mkdocs`` they run `mkdocs build --strict` / `mkdocs serve` (the cmskb
plugin does the work); with ``--builder zensical`` they export the project into
``--project-dir`` and run Zensical on it (`cmskb.zensical`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from cmskb.cli_common import echo_problems, load_or_exit
from cmskb.content.problems import Problem

BUILDERS = click.Choice(["mkdocs", "zensical"])
DEFAULT_PROJECT_DIR = Path("build/zensical")

_builder = click.option(
    "--builder", type=BUILDERS, default="mkdocs", show_default=True,
    help="mkdocs: MkDocs with the cmskb plugin; zensical: the exported project, by Zensical.",
)
_config = click.option(
    "-f", "--config-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default="mkdocs.yml", show_default=True, help="The site's MkDocs configuration.",
)
_content = click.option(
    "--content", "content_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="The content folder (default: the cmskb plugin's content_dir in the configuration).",
)
_project = click.option(
    "--project-dir", type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_PROJECT_DIR, show_default=True,
    help="With --builder zensical: where the exported project is kept between runs.",
)


def _content_dir(config_file: Path, given: Path | None) -> Path:
    if given is not None:
        return given
    from cmskb.zensical.config import load_config
    from cmskb.zensical.project import read_plugin_options

    options = read_plugin_options(load_config(config_file))
    return config_file.parent / options.content_dir


def _mkdocs(*args: str, content_dir: Path | None) -> int:
    env = dict(os.environ)
    if content_dir is not None:
        env["CMSKB_CONTENT_DIR"] = str(content_dir.resolve())
    script = Path(sys.executable).with_name("mkdocs")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "mkdocs"]
    return subprocess.call([*command, *args], env=env)


@click.command()
@_builder
@_config
@_content
@_project
@click.option(
    "-d", "--site-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("site"),
    show_default=True, help="Where the built site goes.",
)
def build(
    builder: str, config_file: Path, content_dir: Path | None, project_dir: Path, site_dir: Path
) -> None:
    """Build the site (strict: any warning stops the build), search index included."""
    if builder == "mkdocs":
        sys.exit(_mkdocs("build", "--strict", "-f", str(config_file), "-d", str(site_dir),
                         content_dir=content_dir))
    from cmskb.zensical.builder import BuildError
    from cmskb.zensical.builder import build as zensical_build
    from cmskb.zensical.config import ConfigError
    from cmskb.zensical.project import read_plugin_options

    folder = _content_dir(config_file, content_dir)
    content = load_or_exit(folder, lambda problems: _report(problems, folder))
    try:
        from cmskb.zensical.config import load_config

        search = read_plugin_options(load_config(config_file)).search
        result = zensical_build(content, config_file, project_dir, site_dir, search=search)
    except (BuildError, ConfigError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    pages = result.search.pages if result.search else 0
    click.echo(
        f"built {result.export.pages} generated pages with Zensical into {result.site_dir} "
        f"(search index: {pages} pages)"
    )


@click.command()
@_builder
@_config
@_content
@_project
@click.option(
    "-a", "--dev-addr", default="127.0.0.1:8000", show_default=True, metavar="<IP:PORT>",
    help="Address the preview listens on.",
)
def serve(
    builder: str, config_file: Path, content_dir: Path | None, project_dir: Path, dev_addr: str
) -> None:
    """Preview the site while editing: content/ changes show without a manual step."""
    if builder == "mkdocs":
        sys.exit(_mkdocs("serve", "-f", str(config_file), "-a", dev_addr,
                         content_dir=content_dir))
    from cmskb.zensical.preview import Preview

    folder = _content_dir(config_file, content_dir)
    preview = Preview(folder, config_file, project_dir, dev_addr, echo=click.echo)
    sys.exit(preview.run())


def _report(problems: list[Problem], folder: Path) -> None:
    echo_problems(problems, folder.as_posix())
    click.echo(f"NG: {len(problems)} 件の問題があります。直してからもう一度ビルドしてください。")
