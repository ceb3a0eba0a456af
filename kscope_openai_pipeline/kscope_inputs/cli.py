"""`kscope-openai load-inputs`: the Kscope inputs by hand.

Why: standalone users have no Kscope crawler writing kscope.* into the warehouse; they
export dev tokens, gateway costs and the engineer registry to files and load them here.
The demo loads the sandbox's generated inputs the same way, so it goes through exactly the
path a user takes. A thin wrapper over `loader.py`. The command returns what it loaded
(`LoadedInputs`) so the `kscope-openai` entry point can record the load in Dagster
without this room knowing Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click
import duckdb

from kscope_openai_pipeline import settings
from kscope_openai_pipeline.kscope_inputs.loader import InputFileError, load_inputs


@dataclass(frozen=True)
class LoadedInputs:
    """What one `load-inputs` stored: the warehouse, rows per table, the files read."""

    db_path: Path
    tables: dict[str, int]
    files: dict[str, Path]


@click.command("load-inputs")
@click.option("--dev-tokens", type=click.Path(dir_okay=False, path_type=Path),
              help="Kscope Dev Tokens (kscope.dev_tokens): .csv, .parquet or .json.")
@click.option("--gateway-costs", type=click.Path(dir_okay=False, path_type=Path),
              help="Gateway metered costs (kscope.gateway_costs).")
@click.option("--engineers", type=click.Path(dir_okay=False, path_type=Path),
              help="Asset Registry engineers (kscope.engineers).")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="DuckDB warehouse [default: $KSCOPE_DUCKDB_PATH or "
              "data/kscope.duckdb].")
@click.option("--organization-id", default=None,
              help="Organization the rows belong to, when the files have no organization_id "
              "column [default: the warehouse's only organization].")
@click.option("--allow-empty", is_flag=True,
              help="Accept files without rows (clears that table for the organization).")
@click.option("--strict", is_flag=True,
              help="Refuse files with columns the table does not have (by default they are "
              "ignored with a warning).")
def load_inputs_command(
    dev_tokens: Path | None,
    gateway_costs: Path | None,
    engineers: Path | None,
    db_path: Path | None,
    organization_id: str | None,
    allow_empty: bool,
    strict: bool,
) -> LoadedInputs:
    """Validate Kscope input files and replace their tables in one transaction.

    Nothing is written unless every file given is valid; an error names the file, the row
    and the column. Tables whose option is not given are left as they are. Unknown columns
    are ignored with a warning (--strict refuses them); a file with a `provider` column
    loads only its OpenAI rows and says how many others it skipped.
    """
    files = {
        kind: path
        for kind, path in (
            ("dev_tokens", dev_tokens),
            ("gateway_costs", gateway_costs),
            ("engineers", engineers),
        )
        if path is not None
    }
    if not files:
        raise click.UsageError("give at least one of --dev-tokens, --gateway-costs, --engineers")
    target = Path(db_path or settings.duckdb_path())
    target.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(target))
    notes: list[str] = []
    try:
        written = load_inputs(
            conn, files, organization_id=organization_id, allow_empty=allow_empty,
            strict=strict, notes=notes,
        )
    except (InputFileError, ValueError) as err:
        raise click.ClickException(str(err)) from err
    finally:
        conn.close()
        for note in notes:
            click.echo(f"Warning: {note}", err=True)
    for table, rows in written.items():
        click.echo(f"{table}: {rows:,} rows")
    click.echo(f"Loaded into {target}")
    return LoadedInputs(target, written, files)
