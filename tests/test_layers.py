"""Imports flow one way (STYLE.md §2): api → eval → assistant → ingest → kb; only the `wuye` command reaches eval."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# what each package may import of the project's own packages
ALLOWED = {
    "kb": {"kb"},
    "ingest": {"ingest", "kb"},
    "assistant": {"assistant", "ingest", "kb"},
    "eval": {"eval", "assistant", "ingest", "kb"},
    "api": {"api", "assistant", "ingest", "kb"},
}
OURS = set(ALLOWED)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & OURS


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_packages_below_it(package: str) -> None:
    def allowed(path: Path) -> set[str]:
        return ALLOWED[package] | ({"eval"} if path.is_relative_to(REPO / "api" / "cli") else set())

    wrong = {str(p.relative_to(REPO)): sorted(_imports(p) - allowed(p)) for p in sorted((REPO / package).rglob("*.py"))}
    assert {k: v for k, v in wrong.items() if v} == {}


def test_only_the_command_line_imports_eval() -> None:
    users = sorted(str(p.relative_to(REPO)) for p in (REPO / "api").rglob("*.py") if "eval" in _imports(p))
    assert users and all(u.startswith("api/cli/") for u in users), users
