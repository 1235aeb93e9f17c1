"""What may import what outside the layer: the benchmarks and the local tooling never import the
tests (what both need lives in baton_local.harness), and every test lives in a tier's folder."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import TIERS
from tests.support import ROOT


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("folder", ["benchmarks", "local"])
def test_tooling_never_imports_the_tests(folder: str) -> None:
    sources = sorted((ROOT / folder).rglob("*.py"))
    assert sources
    offenders = {str(p.relative_to(ROOT)): sorted(n for n in imported(p) if n == "tests" or n.startswith("tests."))
                 for p in sources}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_import_check_sees_a_test_import(tmp_path: Path) -> None:
    source = tmp_path / "x.py"
    source.write_text("def f():\n    from tests.support import call\n    import tests.support.events\n")
    assert imported(source) == {"tests.support", "tests.support.events"}


def test_every_test_module_is_in_a_tier() -> None:
    stray = [p.relative_to(ROOT) for p in (ROOT / "tests").rglob("test_*.py")
             if p.relative_to(ROOT / "tests").parts[0] not in TIERS]
    assert stray == []
