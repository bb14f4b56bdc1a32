"""The `cmskb` command: check the content, export the generated Markdown tree.

Other subcommands are added with ``main.add_command(...)`` at the end of this module.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cmskb.builders import build, serve
from cmskb.cli_common import CONTENT_DIR, content_option, echo_problems, load_or_exit
from cmskb.content.model import Content
from cmskb.content.problems import Problem
from cmskb.content.quotes import check_quotes
from cmskb.finder.cli import finder


@click.group()
def main() -> None:
    """CMSKIT サポートサイトのコンテンツを検査・書き出しします。"""


def summary(content: Content) -> str:
    """One line (Japanese, for editors): what the content holds."""
    drafts = len(content.questions) - len(content.published_questions)
    line = (
        f"OK: 質問 {len(content.published_questions)} 件"
        f"(カテゴリー {len(content.categories)} 件)、"
        f"お知らせ {len(content.news)} 件、プラン {len(content.plans.plans)} 件"
    )
    if drafts:
        line += f"(ほかに下書き {drafts} 件は公開されません)"
    return line


def _prefix(content_dir: Path) -> str:
    """How to print the content folder in front of each problem's file."""
    return content_dir.as_posix().rstrip("/") or "."


def _print_problems(problems: list[Problem], prefix: str, output_format: str = "text") -> None:
    """Report a failed check: one line per problem and the NG line, or the JSON document."""
    if output_format == "json":
        data = [_problem_json(p, prefix) for p in problems]
        click.echo(json.dumps({"ok": False, "problems": data}, ensure_ascii=False, indent=2))
        return
    echo_problems(problems, prefix)
    click.echo(failed_line(len(problems)))


def failed_line(count: int) -> str:
    """The last line of a failed check (Japanese, for editors)."""
    return f"NG: {count} 件の問題があります。直してからもう一度検査してください。"


def _problem_json(problem: Problem, prefix: str) -> dict[str, str | int]:
    data = problem.as_dict()
    data["path"] = problem.path(prefix)
    return data


@main.command()
@click.argument("content_dir", type=CONTENT_DIR, default="content")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: path:line: field: message (for people and editors); json: for CI tools.",
)
@click.option(
    "--support-page",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="サポートサービスのご案内の本文(UTF-8 のテキスト)。お知らせの quote が、"
    "その中にそのまま書かれているかも確かめます。",
)
def check(content_dir: Path, output_format: str, support_page: Path | None) -> None:
    """Validate CONTENT_DIR (default: content) and report every problem.

    Exit status 0 when the content is valid, 1 when it has problems.
    """
    prefix = _prefix(content_dir)
    content = load_or_exit(
        content_dir, lambda problems: _print_problems(problems, prefix, output_format)
    )
    if support_page is not None:
        quoted = check_quotes(content, support_page.read_text(encoding="utf-8"))
        if quoted:
            _print_problems(quoted, prefix, output_format)
            sys.exit(1)
    if output_format == "json":
        data = {
            "ok": True,
            "problems": [],
            "summary": summary(content),
            "counts": {
                "questions": len(content.published_questions),
                "drafts": len(content.questions) - len(content.published_questions),
                "categories": len(content.categories),
                "news": len(content.news),
                "plans": len(content.plans.plans),
            },
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(summary(content))


CONFIG_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@main.command()
@click.argument("content_dir", type=CONTENT_DIR)
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Write into OUT_DIR even if it is not empty.")
@click.option(
    "--zensical",
    is_flag=True,
    help="Write a complete Zensical project (mkdocs.yml, docs/, overrides/) into OUT_DIR.",
)
@click.option(
    "-f",
    "--config-file",
    type=CONFIG_FILE,
    default="mkdocs.yml",
    show_default=True,
    help="With --zensical: the MkDocs configuration to carry over.",
)
@click.option("--site-url", default=None, help="Without --zensical: the site's address (feed).")
def export(
    content_dir: Path,
    out_dir: Path,
    force: bool,
    zensical: bool,
    config_file: Path,
    site_url: str | None,
) -> None:
    """Write the generated pages of CONTENT_DIR into OUT_DIR.

    Alone: the generated Markdown tree (pages, feed, finder and search scripts), for
    another builder's docs folder. With --zensical: a project `zensical build` builds as
    is (run `cmskb search-index OUT_DIR/site` after it); exporting again into the same
    folder updates only what changed.
    """
    reused = zensical and _is_export(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not force and not reused:
        raise click.ClickException(f"{out_dir} is not empty; use --force to write into it anyway")
    content = load_or_exit(
        content_dir, lambda problems: _print_problems(problems, _prefix(content_dir))
    )
    # lazy: only export renders
    from cmskb.content.render import UnsafePathError, write_pages
    from cmskb.site_files import SiteFilesError, generate

    if zensical:
        from cmskb.zensical.config import ConfigError
        from cmskb.zensical.project import export_project

        try:
            stats = export_project(content, config_file, out_dir)
        except (SiteFilesError, UnsafePathError, ConfigError) as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(
            f"wrote a Zensical project of {stats.pages} pages to {out_dir} "
            f"({stats.written} files written, {stats.removed} removed)"
        )
        return
    try:
        generated = generate(content, site_url=site_url)
        write_pages({**generated.pages, **generated.assets}, out_dir)
    except (SiteFilesError, UnsafePathError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"wrote {len(generated.pages)} pages and {len(generated.assets)} assets to {out_dir}"
    )


def _is_export(folder: Path) -> bool:
    """Whether `folder` holds a project written by `cmskb export --zensical`."""
    config = folder / "mkdocs.yml"
    return config.is_file() and config.read_text(encoding="utf-8").startswith(
        "# Generated by `cmskb export --zensical`"
    )


@main.command("search-index")
@click.argument("site_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@content_option("The content folder whose search.yml gives synonyms and excluded pages.")
def search_index(site_dir: Path, content_dir: Path) -> None:
    """Build the site search's index over SITE_DIR, a site already built.

    The MkDocs plugin does this at every build; use this command after another builder
    (the exported tree built by Zensical, for instance).
    """
    content = load_or_exit(
        content_dir, lambda problems: _print_problems(problems, _prefix(content_dir))
    )
    from cmskb.search.site import index_site  # lazy: only this command indexes

    stats = index_site(site_dir, content.search)
    click.echo(
        f"indexed {stats.pages} pages ({stats.sections} sections, {stats.terms} terms) "
        f"into {site_dir / 'search'}: {stats.shards} shards, {stats.bytes_on_disk:,} bytes"
    )


main.add_command(finder)
main.add_command(build)
main.add_command(serve)

if __name__ == "__main__":
    main()
