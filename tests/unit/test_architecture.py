"""The layering of docs/architecture.md that import-linter cannot see: only the repositories and
the storage package's modules touch item keys. Anywhere else in the layer, the functions or the
local tooling, a
key attribute (`pk`, `sk`, `gsiN...`) spelled as a string, or an import of the key scheme or the
cursors, is a storage shape leaking above the repositories."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "layers" / "baton", ROOT / "functions", ROOT / "local"]
# The modules that may spell keys: the table's definition, the storage package, the
# repositories, and the task stream's reader (which reads the table's own change records).
STORAGE = {f"layers/baton/{m}.py" for m in (
    "table", "storage/dynamo", "storage/keys", "storage/cursors",
    "tasks/layout", "tasks/repository", "tasks/audit_repository", "tasks/listings", "tasks/migration", "tasks/stream",
    "tasks/callbacks", "tasks/timers", "directory/repository", "activities/repository")}
KEY_ATTRIBUTE = re.compile(r"^(pk|sk|gsi[0-9]+(pk|sk)?)$")
KEY_MODULES = {"baton.storage.keys", "baton.storage.cursors"}
KEY_NAMES = {"PK", "SK", "INDEXES", "KEYS"}


def modules() -> list[Path]:
    found = [p for root in SOURCES for p in root.rglob("*.py")]
    assert len(found) > 20  # the walk reaches the code
    return found


def leaks(source: str) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY_ATTRIBUTE.match(node.value):
            out.append(f"line {node.lineno}: the key attribute {node.value!r}")
        elif isinstance(node, ast.ImportFrom) and node.module in KEY_MODULES:
            out.append(f"line {node.lineno}: imports {node.module}")
        elif isinstance(node, ast.ImportFrom) and node.module == "baton.table":
            names = {a.name for a in node.names} & KEY_NAMES
            if names:
                out.append(f"line {node.lineno}: imports {', '.join(sorted(names))} from baton.table")
    return out


def test_only_the_storage_modules_touch_item_keys() -> None:
    found = {}
    for path in modules():
        name = path.relative_to(ROOT).as_posix()
        if name not in STORAGE:
            found.update({f"{name} {leak}": 1 for leak in leaks(path.read_text())})
    assert not found, "storage shapes above the repositories:\n" + "\n".join(found)


def test_the_check_sees_each_kind_of_leak() -> None:
    assert sorted(leaks('from baton.storage.keys import Keys\nitem["sk"]\nx = {"gsi3pk": 1}\n'
                        'from baton.table import PK\n')) == [
        "line 1: imports baton.storage.keys", "line 2: the key attribute 'sk'",
        "line 3: the key attribute 'gsi3pk'", "line 4: imports PK from baton.table"]
    assert leaks('item["status"]\nfrom baton.table import GSI_QUEUE\n') == []


def test_every_storage_module_exists() -> None:
    assert all((ROOT / m).exists() for m in STORAGE), sorted(m for m in STORAGE if not (ROOT / m).exists())


def test_no_module_of_the_layer_is_over_300_lines() -> None:
    """Split by job before then (docs/architecture.md)."""
    long = {p.relative_to(ROOT).as_posix(): n for p in (ROOT / "layers" / "baton").rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 300}
    assert long == {}
