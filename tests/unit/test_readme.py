"""The README and docs/ work from a fresh clone: every link points inside the repository to
something that exists, and the generated API reference is current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from baton_local import demo
from tests.gen_api_docs import TARGET, render
from tests.support import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def test_api_reference_is_generated_from_the_route_table() -> None:
    assert TARGET.read_text() == render(), "run `.venv/bin/python -m tests.gen_api_docs`"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_link_stays_inside_the_repository_and_resolves(doc: Path) -> None:
    for target in LINK.findall(doc.read_text()):
        if target.startswith(("http://127.0.0.1", "http://localhost", "#")):
            continue
        assert "://" not in target, f"{doc.name} links outside the repository: {target}"
        path = (doc.parent / target.split("#", 1)[0]).resolve()
        assert path.is_relative_to(ROOT) and path.exists(), f"{doc.name}: {target} does not exist"


def test_readme_spells_out_the_demo_directory() -> None:
    text = (ROOT / "README.md").read_text()
    for user in demo.USERS:
        roles = ", ".join(f"`{r}`" for r in demo.ROLES[user.id])
        assert re.search(rf"\| `{user.id}` \|[^\n]*\| {re.escape(roles)} \|", text), user.id
    for group in demo.GROUPS:
        assert f"`{group.id}`" in text
    for needle in ("LOG_LEVEL", "Node.js", "Java", "/local/events", "?user=alice", "docs/api.md"):
        assert needle in text, needle
