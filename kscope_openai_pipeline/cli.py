"""`kscope-openai`: thin command-line wrappers over the package (sandbox, demo, ui, ...).

Each subcommand lives beside the code it wraps and is only registered here, so this file
stays a table of contents.
"""

from __future__ import annotations

import click


@click.group()
def main() -> None:
    """Kscope's OpenAI spend pipeline: sandbox, demo, loaders and publishing."""
