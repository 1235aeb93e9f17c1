"""SnapStart (`-c snapStart=true`, tests/infra/test_construct.py has the deployment side): the
cold-start module registers the runtime's hooks only under SnapStart; before the snapshot they
prime the DynamoDB client, the lazily imported repositories and each function's resolver (a probe
request refused before any table access); after each restore they re-seed `random`, so that two
environments restored from one snapshot pick differently in claim-next."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from baton.edge.dialects import NATIVE
from baton.edge.entry import FamilyRouter, probe_event
from baton.routes import FAMILIES
from baton_local.events import LambdaContext
from tests.support import ROOT, handlers

# Runs as Lambda's SnapStart would: init (import the function), the before-snapshot hook, then
# two environments restored from that one snapshot (forked, with the generator's state as the
# snapshot held it), each drawing claim-next's picks.
SIMULATION = textwrap.dedent('''
    import gc, json, os, sys, types
    os.environ.update(AWS_LAMBDA_INITIALIZATION_TYPE=sys.argv[1], TABLE_NAME="t", AWS_DEFAULT_REGION="us-east-1",
                      AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", DYNAMODB_ENDPOINT="http://127.0.0.1:9")
    hooks = {"before": [], "after": []}
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_before_snapshot = hooks["before"].append
    runtime.register_after_restore = hooks["after"].append
    sys.modules["snapshot_restore_py"] = runtime
    import botocore.endpoint
    sent = []
    def refuse(self, *args, **kwargs):
        sent.append(args)
        raise RuntimeError("no request may be sent before the snapshot")
    botocore.endpoint.Endpoint.make_request = refuse
    import baton_functions.tasks, baton_functions.docs  # two functions' modules: prepare() runs twice
    from baton.storage import dynamo
    out = {"before": len(hooks["before"]), "after": len(hooks["after"]), "gc_before": gc.isenabled()}
    if hooks["before"]:
        assert "baton.activities.repository" not in sys.modules
        hooks["before"][0]()
        out.update(client=dynamo._client.cache_info().currsize, sent=len(sent), gc_after=gc.isenabled(),
                   imported={"baton.directory.repository", "baton.activities.repository"} <= set(sys.modules))
    from baton.tasks.service import _pick
    import random
    snapshot_state = random.getstate()  # the generator as the snapshot holds it
    for restore in (False, True):
        picks = []
        for _ in range(2):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:
                random.setstate(snapshot_state)  # a fork re-seeds (os.register_at_fork); a restore does not
                if restore:
                    hooks["after"][0]()
                os.write(write, json.dumps([_pick(10**9) for _ in range(4)]).encode())
                os._exit(0)
            os.waitpid(pid, 0)
            picks.append(json.loads(os.read(read, 4096)))
        out["same_picks_restored" if restore else "same_picks_unhooked"] = picks[0] == picks[1]
    print(json.dumps(out))
''')


def simulate(initialization: str, restore: bool = True) -> dict[str, Any]:
    script = SIMULATION if restore else SIMULATION.replace("for restore in (False, True):", "for restore in (False,):")
    done = subprocess.run([sys.executable, "-c", script, initialization], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_snapshot_primes_and_each_restore_reseeds() -> None:
    out = simulate("snap-start")
    assert out["before"] == 1 and out["after"] == 1  # registered once, however many modules prepare
    assert out["gc_before"] is False and out["gc_after"] is True  # frozen and resumed before the snapshot
    assert out["client"] == 1 and out["sent"] == 0  # the DynamoDB client is built, nothing is sent
    assert out["imported"] is True
    # Without the after-restore hook, two environments from one snapshot draw the same picks;
    # with it they differ.
    assert out["same_picks_unhooked"] is True and out["same_picks_restored"] is False


def test_no_hooks_without_snap_start() -> None:
    out = simulate("on-demand", restore=False)
    assert out["before"] == 0 and out["after"] == 0


@pytest.mark.usefixtures("moto_table")
@pytest.mark.parametrize("family", FAMILIES)
def test_each_functions_probe_is_refused_before_any_table_access(family: str) -> None:
    from baton.storage.dynamo import get_dynamo

    calls: list[str] = []
    get_dynamo().client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    event = probe_event((FamilyRouter(family, NATIVE),))
    reply = handlers()[family](event, LambdaContext())
    assert reply["statusCode"] in (200, 400, 401), reply
    assert calls == [], f"{family}'s probe reached the table: {calls}"


def test_the_global_generator_is_the_only_seeded_one() -> None:
    """Every pseudo-random draw in Baton's code goes through the `random` module's functions (which
    the after-restore hook re-seeds) or the kernel's generator (uuid4, secrets): no generator
    object of its own, no uuid1 (clock and node: alike across restored environments)."""
    sources = [*(ROOT / "layers" / "baton").rglob("*.py"), *(ROOT / "functions").glob("*.py")]
    found = []
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("Random", "uuid1", "default_rng", "RandomState"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module in ("random", "numpy.random"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module} import ...")
    assert found == []
