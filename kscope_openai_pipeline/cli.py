"""`kscope-openai`: thin command-line wrappers over the package (sandbox, demo, ui, ...).

Each subcommand lives beside the code it wraps and is only registered here, so this file
stays a table of contents. Importing it loads no Dagster: `--help` stays quick.
"""

from __future__ import annotations

import click

from .analyst_sql import sql_command
from .check_access import check_access_command
from .demo import demo_command, sandbox_inputs_command
from .kscope_inputs.cli import load_inputs_command
from .sandbox.cli import sandbox_command
from .ui import ui_command


@click.group()
def main() -> None:
    """Kscope's OpenAI spend pipeline: sandbox, demo, loaders and publishing."""


main.add_command(sandbox_command)
main.add_command(demo_command)
main.add_command(ui_command)
main.add_command(load_inputs_command)
main.add_command(sandbox_inputs_command)
main.add_command(sql_command)
main.add_command(check_access_command)
