"""`kscope-openai`: thin command-line wrappers over the package (sandbox, demo, ui, ...).

Each subcommand lives beside the code it wraps and is only registered here, so this file
stays a table of contents. Importing it loads no Dagster: `--help` stays quick.
"""

from __future__ import annotations

import click

from .demo import demo_command, sandbox_inputs_command
from .exports.cli import export_focus_command
from .kscope_inputs.cli import load_inputs_command
from .sandbox.cli import sandbox_command
from .ui import ui_command


@click.group()
def main() -> None:
    """Kscope's OpenAI spend pipeline: sandbox, demo, loaders, publishing and exports."""


main.add_command(sandbox_command)
main.add_command(demo_command)
main.add_command(ui_command)
main.add_command(load_inputs_command)
main.add_command(sandbox_inputs_command)
main.add_command(export_focus_command)
