"""``cmskit-forms``: schema, support IDs, and (from forms_app.review) triage commands.

The group is a Flask `FlaskGroup`: commands decorated with ``flask.cli.with_appcontext``
get the configured app (same configuration as the server) as `current_app`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from forms_app import create_app
from forms_app.config import ConfigError
from forms_app.inputs import json_terminal_safe, terminal_safe
from forms_app.public import support_ids
from forms_app.review.commands import cli as review_cli
from forms_app.storage.db import app_engine
from forms_app.storage.migrations import SchemaError, migrate


def _make_app() -> Flask:
    try:
        return create_app(check_schema=False, check_frame=False)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(
    cls=FlaskGroup,
    create_app=_make_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
)
def main() -> None:
    """Forms sidecar administration (configured by CMSKIT_FORMS_* variables)."""


def _pepper() -> str:
    return str(current_app.config["SUPPORT_ID_PEPPER"])


@main.command("migrate")
@with_appcontext
def migrate_command() -> None:
    """Create the queue schema or upgrade it to this app's version (keeps every row)."""
    try:
        result = migrate(app_engine())
    except SchemaError as exc:
        raise click.ClickException(str(exc)) from exc
    if result.before is None:
        click.echo(f"created queue schema version {result.after}")
    elif result.before == result.after:
        click.echo(f"queue schema already at version {result.after}")
    else:
        click.echo(f"upgraded queue schema from version {result.before} to {result.after}")


@main.command("import-ids")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_ids(csv_file: Path) -> None:
    """Import support IDs from CSV_FILE (support_id,holder_kind,product,expires_on,label).

    A re-import updates existing IDs; nothing is written when any row is wrong.
    """
    products = [pid for pid, _name in current_app.config["SITE"].products]
    report = support_ids.import_csv(app_engine(), csv_file, pepper=_pepper(), products=products)
    if report.errors:
        for line in report.errors:
            click.echo(line, err=True)
        raise click.ClickException(f"{len(report.errors)} problem(s); nothing imported")
    click.echo(f"imported {report.inserted} new, updated {report.updated}")


@main.command("revoke-id")
@click.option(
    "--stdin", "from_stdin", is_flag=True,
    help="Read the IDs from standard input, one per line (for many at once).",
)
@click.option("--undo", is_flag=True, help="Reinstate revoked IDs.")
@with_appcontext
def revoke_id(from_stdin: bool, undo: bool) -> None:
    """Revoke a support ID typed at a hidden prompt (or IDs from --stdin).

    Never from the command line: arguments show in `ps` and the shell history. Hyphens,
    width and case do not matter.
    """
    if from_stdin:
        ids = [line.strip() for line in sys.stdin]
    else:
        ids = [click.prompt("Support ID", hide_input=True, err=True).strip()]
    numbered = [(n, value) for n, value in enumerate(ids, 1) if value]
    if not numbered:
        raise click.ClickException("no support ID given")
    done = 0
    for line, value in numbered:
        if support_ids.revoke(app_engine(), value, pepper=_pepper(), undo=undo):
            done += 1
        elif from_stdin:
            click.echo(f"line {line}: no such support ID", err=True)
    verb = "reinstated" if undo else "revoked"
    if len(numbered) == 1 and done == 1:
        click.echo(verb)
        return
    if len(numbered) > 1:
        click.echo(f"{verb} {done} of {len(numbered)}")
    if done < len(numbered):
        missing = len(numbered) - done
        raise click.ClickException(
            "no such support ID" if len(numbered) == 1 else f"{missing} support ID(s) not found"
        )


@main.command("list-ids")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for scripts.")
@with_appcontext
def list_ids(as_json: bool) -> None:
    """List stored support IDs (only the start of each hash: the IDs are not stored)."""
    rows = support_ids.list_ids(app_engine())
    if as_json:
        data = [
            {
                "hash_prefix": r.hash_prefix,
                "holder_kind": r.holder_kind,
                "product": r.product,
                "expires_on": r.expires_on.isoformat(),
                "revoked": r.revoked,
                "label": r.label,
            }
            for r in rows
        ]
        click.echo(json_terminal_safe(json.dumps(data, ensure_ascii=False, indent=2)))
        return
    click.echo(f"{'hash':12}  {'kind':8}  {'product':16}  {'expires':10}  state    label")
    for r in rows:
        state = "revoked" if r.revoked else "active"
        click.echo(
            f"{r.hash_prefix:12}  {r.holder_kind:8}  {r.product:16}  "
            f"{r.expires_on}  {state:7}  {terminal_safe(r.label)}"
        )
    click.echo(f"{len(rows)} support ID(s)")


@main.command("demo-id")
@click.option("--product", default=None, help="Product id (default: the first in site.yml).")
@click.option("--days", default=365, show_default=True, help="Days until it expires.")
@with_appcontext
def demo_id(product: str | None, days: int) -> None:
    """Create a demo support ID for development and print it."""
    products = [pid for pid, _name in current_app.config["SITE"].products]
    product = product or products[0]
    if product not in products:
        raise click.ClickException(f"unknown product {product!r}; one of {', '.join(products)}")
    plain = support_ids.create_demo_id(app_engine(), pepper=_pepper(), product=product, days=days)
    click.echo(plain)


main.add_command(review_cli)
