"""The benchmark's sandbox: the Admin API stand-in in its own process, with a control pipe.

Why a subprocess: the `large` org takes ~2 GB and its server burns CPU serving 160 MB
cost pages; in the measuring process that would count against the pipeline's wall time
(the GIL) and peak RSS. In a child it only competes for the 2 cores, as a remote API
would not, so the figures are, if anything, pessimistic.

Why not `kscope-openai sandbox`: the benchmark needs what only the server object knows:
the requests it served (the ground truth for request counts, whatever the client says)
and the org's list sizes (the minimum number of inventory pages). The child prints one
JSON line when ready, then answers one JSON line per command read from stdin:

    reset  -> forget the requests served so far
    count  -> {"total": n, "by_endpoint": {template: n}, "by_status": {status: n}}
    served -> {"requests": [[path, [[name, value], ...], status], ...]} in the order served
    cpu    -> {"cpu_seconds": s}  (the server's CPU so far: what serving cost)
    quit   -> stop serving and exit

    with SandboxProcess(seed=7, size="large", inputs_dir=tmp) as sb:
        sb.info["base_url"]; sb.reset(); ...; sb.count()["total"]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import IO, Any

LIST_LIMIT = 100  # the largest list page the API allows
_PROJECT_PATH = re.compile(r"^/organization/projects/[^/]+/")
_USAGE_PATH = re.compile(r"^/organization/usage/[a-z_]+$")


def endpoint_template(path: str) -> str:
    """A served path as its endpoint template (per-project listings grouped together)."""
    if _PROJECT_PATH.match(path):
        return _PROJECT_PATH.sub("/organization/projects/{project_id}/", path)
    return path


def list_pages(items: int) -> int:
    """Requests one listing of `items` items needs at the largest page (an empty one: 1)."""
    return max(1, math.ceil(items / LIST_LIMIT))


def inventory_minimum(view: Any) -> dict[str, int]:
    """The fewest list requests that read the whole inventory, per endpoint template.

    Per-project keys are listed for every project (archived ones still own billed keys);
    service accounts and members only for active projects (the API refuses archived ones).
    """
    active = [p.id for p in view.projects if p.status != "archived"]
    return {
        "/organization/projects": list_pages(len(view.projects)),
        "/organization/projects/{project_id}/api_keys": sum(
            list_pages(len(view.project_keys.get(p.id, []))) for p in view.projects
        ),
        "/organization/admin_api_keys": list_pages(len(view.admin_keys)),
        "/organization/users": list_pages(len(view.users)),
        "/organization/invites": list_pages(len(view.org.invites)),
        "/organization/projects/{project_id}/service_accounts": sum(
            list_pages(len(view.service_accounts_by_project.get(p, []))) for p in active
        ),
        "/organization/projects/{project_id}/users": sum(
            list_pages(len(view.project_users.get(p, []))) for p in active
        ),
    }


def _serve(seed: int, size: str, inputs_dir: str | None) -> None:
    """Child side: start, warm, announce, then answer commands until `quit` or EOF."""
    from kscope_openai_pipeline.sandbox.server import Sandbox

    began = time.perf_counter()
    sb = Sandbox.start(seed=seed, size=size, port=0)
    sb.view.warm()  # indexes built before any timed request, not during the first one
    ready = time.perf_counter() - began
    inputs: dict[str, str] = {}
    if inputs_dir:
        from kscope_openai_pipeline.demo import write_sandbox_inputs

        inputs = {k: str(v) for k, v in write_sandbox_inputs(seed, size, inputs_dir).items()}
    org = sb.org
    info = {
        "base_url": sb.base_url,
        "admin_key": sb.admin_key,
        "organization_id": org.organization_id,
        "organization_name": org.organization_name,
        "start_day": org.start_day,
        "end_day": org.end_day,
        "projects": len(org.projects),
        "project_keys": sum(1 for k in org.api_keys if k.kind == "project"),
        "users": len(org.users),
        "usage_events": {name: len(frame) for name, frame in org.usage.items()},
        "cost_rows": len(org.costs),
        "inventory_minimum": inventory_minimum(sb.view),
        "audit_events_by_day": dict(Counter(
            time.strftime("%Y-%m-%d", time.gmtime(e.effective_at)) for e in org.audit_events
        )),
        "startup_seconds": round(ready, 1),
        "inputs": inputs,
    }
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "reset":
            sb.clear_requests()
            reply: dict[str, Any] = {"ok": True}
        elif command == "count":
            served = sb.requests
            reply = {
                "total": len(served),
                "by_endpoint": dict(Counter(endpoint_template(r.path) for r in served)),
                "by_status": {str(k): v for k, v in Counter(r.status for r in served).items()},
            }
        elif command == "served":
            reply = {"requests": [[r.path, r.query, r.status] for r in sb.requests]}
        elif command == "cpu":
            import resource

            usage = resource.getrusage(resource.RUSAGE_SELF)
            reply = {"cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2)}
        elif command == "quit":
            break
        else:
            reply = {"error": f"unknown command {command!r}"}
        print(json.dumps(reply), flush=True)
    sb.stop()


class SandboxProcess:
    """Parent side: the sandbox child process and its control pipe (a context manager)."""

    def __init__(self, seed: int, size: str, inputs_dir: str | Path | None = None) -> None:
        command = [sys.executable, "-m", "benchmarks.sandbox_proc", "--seed", str(seed),
                   "--size", size]
        if inputs_dir is not None:
            command += ["--inputs-dir", str(inputs_dir)]
        self._proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        self.info: dict[str, Any] = self._read()

    def _read(self) -> dict[str, Any]:
        stdout: IO[str] | None = self._proc.stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"sandbox process exited early (code {self._proc.wait()})")
        return json.loads(line)

    def _ask(self, command: str) -> dict[str, Any]:
        stdin = self._proc.stdin
        assert stdin is not None
        stdin.write(command + "\n")
        stdin.flush()
        return self._read()

    def reset(self) -> None:
        self._ask("reset")

    def count(self) -> dict[str, Any]:
        return self._ask("count")

    def served(self) -> list[tuple[str, list[tuple[str, str]], int]]:
        """(path, query pairs, status) of every request since the last reset, in order."""
        return [(p, [tuple(q) for q in query], status)  # type: ignore[misc]
                for p, query, status in self._ask("served")["requests"]]

    def cpu_seconds(self) -> float:
        return float(self._ask("cpu")["cpu_seconds"])

    def environment(self) -> dict[str, str]:
        """The settings that point the pipeline at this sandbox (as `demo` sets them)."""
        return {
            "OPENAI_ADMIN_KEY": self.info["admin_key"],
            "OPENAI_BASE_URL": self.info["base_url"],
            "OPENAI_ORGANIZATION_ID": self.info["organization_id"],
            "OPENAI_ORGANIZATION_NAME": self.info["organization_name"],
            "KSCOPE_SANDBOX": "1",
        }

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                stdin = self._proc.stdin
                assert stdin is not None
                stdin.write("quit\n")
                stdin.close()
                self._proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:  # never shows the key
        return f"SandboxProcess(base_url={self.info.get('base_url')!r})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--size", default="large")
    parser.add_argument("--inputs-dir", default=None)
    args = parser.parse_args()
    _serve(args.seed, args.size, args.inputs_dir)


if __name__ == "__main__":
    main()
