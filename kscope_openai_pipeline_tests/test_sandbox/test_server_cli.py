"""`kscope-openai sandbox` as a real process: first line, serving, faults, clean shutdown."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kscope_openai_pipeline.cli import main

from .clients import client

FIRST_LINE = re.compile(
    r"^Sandbox serving (http://127\.0\.0\.1:(\d+)/v1)  admin key: (sk-admin-\S+)$"
)


def _command() -> list[str]:
    script = Path(sys.executable).with_name("kscope-openai")
    if script.exists():
        return [str(script)]
    found = shutil.which("kscope-openai")
    if found:
        return [found]
    return [sys.executable, "-c", "from kscope_openai_pipeline.cli import main; main()"]


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_until_signalled(stop_with: signal.Signals) -> None:
    proc = subprocess.Popen(
        [
            *_command(),
            "sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--seed",
            "7",
            "--size",
            "tiny",
            "--fault",
            "429:/organization/projects:1:retry_after=2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().rstrip("\n")
        match = FIRST_LINE.match(first)
        assert match, first
        base_url, _, key = match.groups()
        summary = [proc.stdout.readline().rstrip("\n") for _ in range(8)]
        assert summary[0].startswith("  organization org-") and "size tiny" in summary[0]
        assert summary[1].startswith("  projects: 3 (1 archived)")
        assert summary[3].startswith("  days: 60 (")
        assert "completions (" in summary[4] and "web_search_calls (" in summary[4]
        assert summary[7] == "  fault: 429 on /organization/projects (1)"
        with client(base_url, key) as http:
            first_try = http.get("/organization/projects")
            assert first_try.status_code == 429 and first_try.headers["retry-after"] == "2"
            assert http.get("/organization/projects").status_code == 200
        proc.send_signal(stop_with)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out.rstrip("\n").endswith("Sandbox stopped.")


def test_cli_rejects_a_bad_fault_spec() -> None:
    result = CliRunner().invoke(
        main, ["sandbox", "--port", "0", "--size", "tiny", "--fault", "teapot:*"]
    )
    assert result.exit_code == 2
    assert "Invalid value for --fault: unknown fault kind 'teapot'" in result.output
