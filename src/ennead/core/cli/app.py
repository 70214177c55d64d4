"""Root Typer app: ``ennead ls | env | version | tour`` and ``ennead <system> <verb>``."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from ennead.core.cli.common import hide_flag_types, run_app, state

hide_flag_types()

app = typer.Typer(
    name="ennead",
    help="Nine research systems as installable, tested, scalable software.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from ennead import __version__

        print(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log debug messages; show tracebacks.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    from ennead.core.logging import setup_logging

    state.verbose = verbose
    setup_logging(logging.DEBUG if verbose else logging.INFO)


@app.command()
def version() -> None:
    """Print the ennead version."""
    from ennead import __version__

    print(__version__)


@app.command("ls")
def list_components(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """List systems, LM backends and metrics."""
    from ennead.core.catalog import catalog

    data = catalog()
    if as_json:
        print(json.dumps(data, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    for kind, rows in data.items():
        table = Table(title=kind, title_justify="left")
        table.add_column("name")
        table.add_column("about")
        for row in rows:
            # Summaries are plain text: "[cuge] ..." must not be read as rich markup.
            table.add_row(escape(row["name"]), escape(row.get("summary", "")))
        if not rows:
            table.add_row("(none yet)", "")
        console.print(table)


@app.command()
def env(
    prepare: Annotated[
        bool, typer.Option("--prepare", help="Convert embedded assets into the cache if needed.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show versions, embedded assets (found / prepared) and the compute device."""
    from ennead.core.envinfo import environment_report

    report = environment_report(prepare=prepare)
    if as_json:
        print(json.dumps(report, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]ennead[/bold] {report['ennead']}  python {report['python']}")
    console.print(f"device: {report['device']}")
    console.print(f"cache: {report['cache']}")
    pk = Table(title="packages", title_justify="left")
    pk.add_column("package")
    pk.add_column("version")
    for name, ver in report["packages"].items():
        pk.add_row(name, ver)
    console.print(pk)
    at = Table(title="embedded assets", title_justify="left")
    for col in ("asset", "found", "prepared", "detail"):
        at.add_column(col)
    for row in report["assets"]:
        at.add_row(
            row["name"],
            "yes" if row["found"] else "no",
            "yes" if row["prepared"] else "no",
            row["detail"],
        )
    console.print(at)


@app.command()
def tour(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Run folder (default runs/tour; a rerun reuses it)."),
    ] = None,
    systems: Annotated[
        list[str] | None,
        typer.Option("--only", "--system", "-s", help="Only this system (repeat for more)."),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Smoke sizes (seconds; verdicts not meaningful).")
    ] = False,
) -> None:
    """Measure each paper's claims and write one report (md + html) that opens with the claims
    table. A rerun into the same folder reuses finished sections."""
    from ennead.core.tour import run_tour

    result = run_tour(out, only=systems, quick=quick)
    for claim in result.claims:
        print(f"{claim.system:10s} {claim.verdict:15s} {claim.interval_text():24s} {claim.claim}")
    print(f"report: {result.artifacts['markdown']}")
    print(f"html:   {result.artifacts['html']}")


def mount_system(name: str, root: typer.Typer | None = None) -> None:
    """Add the registered system ``name``'s Typer sub-app as ``ennead <name>``."""
    from ennead.core.registry import load_target
    from ennead.core.systems import get_system

    spec = get_system(name)
    (root or app).add_typer(load_target(spec.cli), name=name, help=spec.summary)


def _mount_systems() -> None:
    """Mount every registered system; a system that fails to import must not break the rest."""
    from ennead.core.errors import EnneadError
    from ennead.core.logging import get_logger
    from ennead.core.systems import systems

    for name in systems.names():
        try:
            mount_system(name)
        except (ImportError, EnneadError, AttributeError, TypeError) as exc:
            get_logger(__name__).debug("system %s not mounted: %s", name, exc)


_mount_systems()


def main(argv: Sequence[str] | None = None) -> None:
    """The ``ennead`` console script: every handled error is one ``error:`` line and exit code 2."""
    raise SystemExit(run_app(app, argv))
