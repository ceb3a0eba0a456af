"""The rules of the package's rooms, read from its imports (README, "The rooms").

Each rule fails with the file and the import that breaks it, so a change that crosses a
wall is caught in CI with the fix in sight. Imports are read with `ast` from every module
of the package, wherever they stand (module level, inside a function, under
TYPE_CHECKING): a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "kscope_openai_pipeline"
ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / PACKAGE
TESTS_DIR = ROOT / f"{PACKAGE}_tests"

#: Modules allowed to import dagster outside `defs/`: the code location and entry points.
DAGSTER_ENTRY_POINTS = {
    f"{PACKAGE}.definitions",
    f"{PACKAGE}.cli",
    f"{PACKAGE}.demo",
    f"{PACKAGE}.ui",
}
#: Modules allowed to import the sandbox from outside it: the demo and the UI command.
SANDBOX_USERS = {f"{PACKAGE}.demo", f"{PACKAGE}.ui", f"{PACKAGE}.cli"}
#: Rooms that must not reach the Admin API client, even through another module.
NO_CLIENT_ROOMS = ("sightlines", "kscope_inputs", "exports", "alerts")
#: Test folders that mirror no package folder, and why.
UNMIRRORED_TEST_DIRS = {
    "helpers": "shared fixtures: the hand-built organization, warehouse fillers, processes",
    "test_reliability": "the fault, crash, concurrency and secrets suite across every room",
}
MAX_LINES = 500


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    path: Path
    line: int
    target: str  # the imported module, dotted (a name imported from a package is resolved)

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line} imports {self.target}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


MODULES = _modules()


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _imports_of(module: str, path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, path, node)
            for alias in node.names:
                child = f"{source}.{alias.name}"
                yield Import(module, path, node.lineno, child if child in MODULES else source)


IMPORTS = [imp for module, path in MODULES.items() for imp in _imports_of(module, path)]


def _inside(module: str, room: str) -> bool:
    name = f"{PACKAGE}.{room}"
    return module == name or module.startswith(name + ".")


def _is_dagster(target: str) -> bool:
    return target.split(".")[0] in {"dagster", "dagster_duckdb", "dagster_pandera"}


def _internal_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for imp in IMPORTS:
        if imp.target in MODULES and imp.target != imp.module:
            graph[imp.module].add(imp.target)
    return graph


def test_dagster_is_imported_only_under_defs_and_by_the_entry_points() -> None:
    offenders = [
        str(imp)
        for imp in IMPORTS
        if _is_dagster(imp.target)
        and not _inside(imp.module, "defs")
        and imp.module not in DAGSTER_ENTRY_POINTS
    ]
    assert not offenders, "Dagster belongs in defs/ only:\n" + "\n".join(offenders)


def test_every_module_under_defs_uses_dagster() -> None:
    uses = {imp.module for imp in IMPORTS if _is_dagster(imp.target)}
    plain = [
        str(path.relative_to(ROOT))
        for module, path in MODULES.items()
        if _inside(module, "defs")
        and module not in uses
        and not (path.name == "__init__.py" and _only_a_docstring(path))
    ]
    assert not plain, "modules under defs/ without Dagster belong in a domain room:\n" + "\n".join(
        plain
    )


def _only_a_docstring(path: Path) -> bool:
    body = ast.parse(path.read_text()).body
    return all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body)


def test_no_import_cycles_inside_the_package() -> None:
    graph = _internal_graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    # a package's __init__ importing its own submodules is not a cycle between rooms
    real = [c for c in cycles if not _init_reexport(c)]
    assert not real, "import cycles:\n" + "\n".join(" -> ".join(c) for c in real)


def _init_reexport(cycle: list[str]) -> bool:
    packages = {m for m in cycle if MODULES[m].name == "__init__.py"}
    return any(all(_inside(m, p.removeprefix(PACKAGE + ".")) for m in cycle) for p in packages)


def test_the_client_imports_nothing_else_of_the_package() -> None:
    offenders = [
        str(imp)
        for imp in IMPORTS
        if _inside(imp.module, "openai_admin")
        and imp.target.startswith(PACKAGE)
        and not _inside(imp.target, "openai_admin")
    ]
    assert not offenders, "openai_admin must stand alone:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    ("room", "forbidden"),
    [(room, "openai_admin") for room in NO_CLIENT_ROOMS] + [("exports", "sandbox")],
)
def test_rooms_never_reach_what_they_must_not(room: str, forbidden: str) -> None:
    """sightlines, kscope_inputs, exports and alerts never reach the client; exports never the
    sandbox (a FOCUS file must not be able to contain an imitation's vocabulary)."""
    graph = _internal_graph()
    offenders = []
    for start in (m for m in MODULES if _inside(m, room)):
        seen, path_to = {start}, {start: [start]}
        frontier = [start]
        while frontier:
            node = frontier.pop()
            for nxt in graph[node]:
                if nxt not in seen:
                    seen.add(nxt)
                    path_to[nxt] = path_to[node] + [nxt]
                    frontier.append(nxt)
        reached = sorted(m for m in seen if _inside(m, forbidden))
        if reached:
            offenders.append(" -> ".join(path_to[reached[0]]))
    assert not offenders, f"{room} reaches {forbidden}:\n" + "\n".join(offenders)


def test_only_the_demo_and_ui_import_the_sandbox() -> None:
    offenders = [
        str(imp)
        for imp in IMPORTS
        if _inside(imp.target, "sandbox")
        and not _inside(imp.module, "sandbox")
        and imp.module not in SANDBOX_USERS
    ]
    assert not offenders, "only the demo, ui and CLI may import the sandbox:\n" + "\n".join(
        offenders
    )


def test_the_sandbox_imports_nothing_of_the_product() -> None:
    offenders = [
        str(imp)
        for imp in IMPORTS
        if _inside(imp.module, "sandbox")
        and imp.target.startswith(PACKAGE)
        and not _inside(imp.target, "sandbox")
    ]
    assert not offenders, "the sandbox must not share the product's vocabulary:\n" + "\n".join(
        offenders
    )


def _environment_reads(path: Path) -> Iterator[tuple[int, str]]:
    """Reads of the environment: os.environ.get / [...] / setdefault, os.getenv, EnvVar."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = ast.unparse(func)
            if name in {"os.getenv", "os.environ.get", "os.environ.setdefault"} or name.endswith(
                "EnvVar"
            ):
                yield node.lineno, name
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and ast.unparse(node.value) == "os.environ"
        ):
            yield node.lineno, ast.unparse(node)


def test_every_setting_is_read_in_one_module() -> None:
    settings = PACKAGE_DIR / "settings.py"
    offenders = [
        f"{path.relative_to(ROOT)}:{line} reads {what}"
        for module, path in MODULES.items()
        if path != settings and not _inside(module, "sandbox")
        for line, what in _environment_reads(path)
        if not (what.endswith("EnvVar") and "settings.ADMIN_KEY_ENV" in path.read_text())
    ]
    assert not offenders, "read settings through kscope_openai_pipeline.settings:\n" + "\n".join(
        offenders
    )


def test_every_setting_is_in_the_readme_settings_table() -> None:
    source = (PACKAGE_DIR / "settings.py").read_text()
    names = set(re.findall(r'"((?:OPENAI|KSCOPE|DAGSTER)_[A-Z_]+)"', source))
    readme = (ROOT / "README.md").read_text()
    rows = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, re.M))
    assert names, "no settings found"
    assert names - rows == set(), f"settings missing from the README table: {sorted(names - rows)}"


def test_no_product_module_is_long_without_saying_why() -> None:
    long = []
    for path in MODULES.values():
        lines = len(path.read_text().splitlines())
        docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
        if lines > MAX_LINES and "One unit, though long" not in docstring:
            long.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert not long, (
        f"modules over {MAX_LINES} lines: split them, or say in the docstring why each is "
        "'One unit, though long':\n" + "\n".join(long)
    )


def _package_dirs() -> set[Path]:
    return {
        p.parent.relative_to(PACKAGE_DIR)
        for p in PACKAGE_DIR.rglob("*.py")
        if p.parent != PACKAGE_DIR
    }


def _mirror(relative: Path) -> Path:
    return Path(*(f"test_{part}" for part in relative.parts))


def test_the_tests_mirror_the_package_folder_for_folder() -> None:
    expected = {_mirror(d) for d in _package_dirs()}
    actual = {
        p.parent.relative_to(TESTS_DIR)
        for p in TESTS_DIR.rglob("test_*.py")
        if p.parent != TESTS_DIR
    }
    missing = sorted(str(d) for d in expected - actual)
    extra = sorted(
        str(d) for d in actual - expected if d.parts[0] not in UNMIRRORED_TEST_DIRS
    )
    assert not missing, f"package folders without a test folder: {missing}"
    assert not extra, f"test folders that mirror no package folder: {extra}"


def test_one_hand_built_organization_serves_the_tests() -> None:
    builders = [
        str(p.relative_to(ROOT))
        for p in TESTS_DIR.rglob("*.py")
        if re.search(r"^def (build|make)_\w*org\w*\(", p.read_text(), re.M)
        and "SyntheticOrg(" in p.read_text()
    ]
    assert builders == [f"{PACKAGE}_tests/helpers/handmade_org.py"], builders
