"""Run the FinOps Foundation's `focus-validator` 2.2.1 on FOCUS files, from the tests.

Why in the tests: the validator is the FinOps Foundation's own judge of a FOCUS file, and
the export must pass it in CI. It is not a dependency of the product: it needs Python 3.12
(its `numpy<2` pin has no wheels for 3.13, so 3.12 exactly) and pins its own pandera and
duckdb, so it runs in a tool environment of its own, through uv:

    uv tool run [--offline] --python <python3.12> --from focus-validator==2.2.1
        --with 'pyarrow<19' python -c BOOTSTRAP FILE... -- --validate-version 1.2
        --block-download --output-type console --applicability-criteria STRICT

What running it here takes, and why:
- `pyarrow<19`: unpinned, uv pairs pyarrow 26 with numpy 1.26 and the import fails.
- `--block-download`: the FOCUS 1.2 rule set ships in the package; never ask GitHub.
- The validator opens `focus_validator/rules/currency_codes.csv` by a relative path, and uv
  refuses a working directory inside its cache (where the tool environment lives); so it
  runs in a scratch directory holding a `focus_validator` symlink to the installed package.
- It exits 0 even when rules fail: the summary line `Total: N | Pass: N | Fail: N |
  Skipped: N` and the per-rule status lines are parsed instead.
- Several files are validated in ONE process (the bootstrap calls its `main()` once per
  file): the imports and uv's environment check cost more than a validation.
- `--offline` once uv's cache holds the environment (a cold machine downloads ~140 MB
  from PyPI once).

The InvoiceId bug: `InvoiceId-C-003-C` is the OR of `InvoiceId-C-004-C` ("MUST be null")
and `InvoiceId-C-005-C` ("MUST NOT be null"), both unconditional. The OR passes, but the
validator also scores each branch as a rule, so one of them fails for EVERY file that has
the column (leaving the column out fails 7 rules instead). `Report.problems` accepts that
one failure, and only it, and only while `InvoiceId-C-003-C` passes.

A missing Python 3.12 or uv raises `ValidatorUnavailable` with what to install: the tests
fail, they never skip.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

VALIDATOR = "focus-validator==2.2.1"
PYARROW_PIN = "pyarrow<19"

#: Every applicability criterion but the two whose rules are broken in the 2.2.1 model
#: (CapacityReservationStatus-C-004-C has a malformed condition and forces NOT NULL on
#: every row; CommitmentDiscountStatus C-003/C-004 contradict each other). Criteria only
#: switch rules ON, and the export carries every FOCUS column, so this is the strictest
#: check the validator can pass: 302 rules run instead of 136 without criteria.
STRICT_CRITERIA = (
    "ACCOUNT_NAMING_SUPPORTED",
    "AVAILABILITY_ZONE_SUPPORTED",
    "MULTIPLE_PRICING_CATEGORIES_SUPPORTED",
    "MULTIPLE_SUB_ACCOUNT_TYPES_SUPPORTED",
    "MULTIPLE_BILLING_ACCOUNT_TYPES_SUPPORTED",
    "NEGOTIATED_PRICING_SUPPORTED",
    "PUBLIC_PRICE_LIST_SUPPORTED",
    "USAGE_MEASUREMENT_SUPPORTED",
    "UNIT_PRICING_SUPPORTED",
    "SUB_ACCOUNT_SUPPORTED",
    "BILLING_BASED_ON_PROVISIONED_RESOURCES_SUPPORTED",
    "RESOURCE_TYPE_ASSIGNMENT_SUPPORTED",
    "PRICING_BILLING_CURRENCY_DIFFERENCES_SUPPORTED",
    "VIRTUAL_CURRENCY_SUPPORTED",
    "REGION_SUPPORTED",
    "TAGGING_SUPPORTED",
)
#: The failure the validator reports for every file with InvoiceId NULL (see the docstring).
KNOWN_BUG_FAILURE = "InvoiceId-C-005-C"
KNOWN_BUG_GUARD = "InvoiceId-C-003-C"

SUMMARY = re.compile(r"^Total: (\d+) \| Pass: (\d+) \| Fail: (\d+) \| Skipped: (\d+)\s*$", re.M)
STATUS = re.compile(r"^\S+ ([A-Za-z]+-[A-Z]-\d{3}-[A-Z]): (PASS|FAIL|SKIPPED)\b", re.M)
_BEGIN, _END = "=== kscope focus-validator file: ", "=== kscope focus-validator done: "

BOOTSTRAP = f"""
import os, sys, time, focus_validator
package = os.path.dirname(os.path.abspath(focus_validator.__file__))
os.path.lexists('focus_validator') or os.symlink(package, 'focus_validator')
from focus_validator.main import main
cut = sys.argv.index('--')
files, options = sys.argv[1:cut], sys.argv[cut + 1:]
for path in files:
    print({_BEGIN!r} + path, flush=True)
    started = time.monotonic()
    sys.argv = ['focus-validator', '--data-file', path] + options
    main()
    print({_END!r} + path + ' %.1f' % (time.monotonic() - started), flush=True)
"""


class ValidatorUnavailable(RuntimeError):
    """No Python 3.12 or no uv: the validator cannot run here (says what to install)."""


@dataclass
class Report:
    """One file's validation: the summary line, every rule's status, the raw output."""

    path: Path
    summary: str | None
    total: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    statuses: dict[str, str] = field(default_factory=dict)
    output: str = ""
    seconds: float = 0.0

    @property
    def failed_rules(self) -> list[str]:
        return sorted(r for r, s in self.statuses.items() if s == "FAIL")

    def problems(self) -> list[str]:
        """Why this file does not pass; empty when the only failure is the InvoiceId bug."""
        if self.summary is None:
            return [f"{self.path.name}: no summary line in the validator's output"]
        problems = []
        if self.failed != len(self.failed_rules):
            problems.append(f"summary says Fail: {self.failed}, status lines name "
                            f"{self.failed_rules}")
        unexpected = [r for r in self.failed_rules if r != KNOWN_BUG_FAILURE]
        if unexpected:
            problems.append(f"failed rules {unexpected}")
        if self.statuses.get(KNOWN_BUG_GUARD) != "PASS":
            problems.append(f"{KNOWN_BUG_GUARD} is {self.statuses.get(KNOWN_BUG_GUARD)}, not PASS")
        if self.failed_rules != [KNOWN_BUG_FAILURE]:
            problems.append(f"expected exactly the known {KNOWN_BUG_FAILURE} failure, got "
                            f"{self.failed_rules}")
        if problems:
            tail = self.output[self.output.find("--- Failures ---"):][:4000]
            return [f"{self.path.name}: " + "; ".join(problems) + "\n" + tail]
        return []


def _is_python312(python: str) -> bool:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
            capture_output=True, text=True, timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == "True"


def find_python312() -> str:
    """A Python 3.12 interpreter: $FOCUS_VALIDATOR_PYTHON, pyenv's, uv's, then PATH.

    pyenv's real binaries come before its shims: a shim for a version that is not the
    global one exits 127 (and uv treats that as fatal when it inspects interpreters).
    """
    candidates = []
    if os.environ.get("FOCUS_VALIDATOR_PYTHON"):
        candidates.append(os.environ["FOCUS_VALIDATOR_PYTHON"])
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates += sorted(
        glob.glob(os.path.join(pyenv, "versions", "3.12*", "bin", "python3.12")), reverse=True
    )
    try:
        found = subprocess.run(
            [*uv_command(), "python", "find", "--no-python-downloads", "3.12"],
            capture_output=True, text=True, timeout=60,
        )
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(found.stdout.strip())
    except (ValidatorUnavailable, OSError, subprocess.TimeoutExpired):
        pass
    if shutil.which("python3.12"):
        candidates.append(shutil.which("python3.12"))  # type: ignore[arg-type]
    for python in dict.fromkeys(candidates):
        if _is_python312(python):
            return python
    raise ValidatorUnavailable(
        "focus-validator 2.2.1 needs Python 3.12 (3.13 has no wheel for its numpy<2 pin) and "
        "none was found: looked at $FOCUS_VALIDATOR_PYTHON, "
        f"{os.path.join(pyenv, 'versions', '3.12*', 'bin', 'python3.12')}, "
        "`uv python find 3.12` and python3.12 on PATH (tried: "
        f"{', '.join(candidates) or 'nothing found'}). Install one (`pyenv install 3.12`) "
        "or set FOCUS_VALIDATOR_PYTHON to a Python 3.12 interpreter."
    )


def uv_command() -> list[str]:
    """How to call uv: `uv` on PATH, else `python3 -m uv` (how the Makefile installs it)."""
    if shutil.which("uv"):
        return [shutil.which("uv")]  # type: ignore[list-item]
    for python in dict.fromkeys([shutil.which("python3"), sys.executable]):
        try:
            if python and subprocess.run([python, "-m", "uv", "--version"],
                                         capture_output=True, timeout=60).returncode == 0:
                return [python, "-m", "uv"]
        except (OSError, subprocess.TimeoutExpired):
            continue
    raise ValidatorUnavailable(
        "uv is needed to run focus-validator in its own environment and was not found "
        "(neither `uv` on PATH nor `python3 -m uv`): `pip install uv` (make setup does)."
    )


def validate(
    files: Sequence[str | Path], criteria: Sequence[str] = STRICT_CRITERIA
) -> dict[Path, Report]:
    """Validate each file (.parquet or .csv) with focus-validator 2.2.1, in one process."""
    paths = [Path(f).resolve() for f in files]
    uv, python = uv_command(), find_python312()
    tool = [*uv, "tool", "run", "--python", python, "--from", VALIDATOR, "--with", PYARROW_PIN]
    options = ["--validate-version", "1.2", "--block-download", "--output-type", "console"]
    if criteria:
        options += ["--applicability-criteria", ",".join(criteria)]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    with tempfile.TemporaryDirectory(prefix="focus-validator-") as workdir:
        warm = subprocess.run(
            [*tool[:3], "--offline", *tool[3:], "python", "-c", "import focus_validator"],
            cwd=workdir, env=env, capture_output=True, timeout=300,
        )
        offline = ["--offline"] if warm.returncode == 0 else []
        command = [*tool[:3], *offline, *tool[3:], "python", "-c", BOOTSTRAP,
                   *map(str, paths), "--", *options]
        proc = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True,
                              encoding="utf-8", errors="replace", timeout=1800)
    reports = {path: _report(path, proc.stdout) for path in paths}
    if proc.returncode != 0 or any(r.summary is None for r in reports.values()):
        for report in reports.values():
            report.output += f"\n[validator exit {proc.returncode}]\n{proc.stderr[-6000:]}"
    return reports


def _report(path: Path, stdout: str) -> Report:
    begin = stdout.find(_BEGIN + str(path) + "\n")
    end = stdout.find(_END + str(path) + " ", begin)
    if begin < 0 or end < 0:
        return Report(path, None, output=stdout[-6000:])
    output = stdout[begin:end]
    seconds = float(stdout[end:].split("\n", 1)[0].rsplit(" ", 1)[1])
    m = SUMMARY.search(output)
    if not m:
        return Report(path, None, output=output, seconds=seconds)
    total, passed, failed, skipped = map(int, m.groups())
    return Report(path, m.group(0).strip(), total, passed, failed, skipped,
                  dict(STATUS.findall(output)), output, seconds)


def timed_validate(files: Sequence[str | Path]) -> tuple[dict[Path, Report], float]:
    """`validate` and its wall time in seconds (the tests print it)."""
    started = time.monotonic()
    reports = validate(files)
    return reports, time.monotonic() - started
