"""`kscope-openai`: thin command-line wrappers over the package (sandbox, demo, ui, ...).

Each subcommand lives beside the code it wraps and is only registered here, so this file
stays a table of contents. Importing it loads no Dagster: `--help` stays quick.
The one thing added here: a `load-inputs` is recorded in Dagster (DAGSTER_HOME) as a
materialization of each loaded table with its check evaluated, because the loader's room
knows no Dagster.
"""

from __future__ import annotations

from typing import Any

import click

from .analyst_sql import sql_command
from .check_access import check_access_command
from .demo import demo_command, sandbox_inputs_command
from .exports.cli import export_focus_command
from .kscope_inputs.cli import LoadedInputs, load_inputs_command
from .sandbox.cli import sandbox_command
from .ui import ui_command


@click.group()
def main() -> None:
    """Kscope's OpenAI spend pipeline: sandbox, demo, loaders, publishing and exports."""


@main.result_callback()
def _after_command(result: Any, **_: Any) -> None:
    if isinstance(result, LoadedInputs):
        click.echo(record_loaded_inputs(result))


def record_loaded_inputs(loaded: LoadedInputs) -> str:
    """Record a `load-inputs` in the Dagster instance at DAGSTER_HOME; the line to print."""
    import dagster as dg

    from . import warehouse
    from .dagster_home import ensure_dagster_home
    from .defs.kscope.loads import describe, record_input_loads

    ensure_dagster_home()
    source = ", ".join(str(path.resolve()) for path in loaded.files.values())
    conn = warehouse.connect(loaded.db_path)
    try:
        with dg.DagsterInstance.get() as instance:
            return describe(record_input_loads(instance, conn, loaded.tables, source))
    finally:
        warehouse.disconnect(conn)


main.add_command(sandbox_command)
main.add_command(demo_command)
main.add_command(ui_command)
main.add_command(load_inputs_command)
main.add_command(sandbox_inputs_command)
main.add_command(sql_command)
main.add_command(check_access_command)
main.add_command(export_focus_command)
