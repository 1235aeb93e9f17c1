"""The benchmark harness still runs end to end (tiny sizes), so `make bench` cannot rot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.run import MUTATIONS, OPS
from tests.support import ROOT

pytestmark = [pytest.mark.ddblocal, pytest.mark.xdist_group("bench")]
KEYS = {"cold_init_ms", "baseline_init_ms", "cold_init_ratio", "warm_p50_us", "warm_p99_us", "warm_baseline_p50_us",
        "warm_ratio", "ddb_calls", "bulk_claim_100", "race", "scale", "queue_scale", "queue_groups", "claim_next",
        "hot_key_share", "people", "escalation_sweep", "escalation_lateness", "timer_hot_keys", "routing_served",
        "routing_spread", "routing_race",
        "layer_mb"}


def test_quick_bench_writes_every_key(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if k not in ("TABLE_NAME", "DYNAMODB_ENDPOINT")}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    results = json.loads(out.read_text())
    assert set(results) >= KEYS
    assert results["cold_init_ms"]["itential"] > 0 and results["baseline_init_ms"] > 0
    assert results["warm_p50_us"] > 0 and results["warm_baseline_p50_us"] > 0
    assert set(results["ddb_calls"]) == set(OPS)
    for name in MUTATIONS:
        assert results["ddb_calls"][name]["writes"] >= 1, name
    assert all(c["scans"] == 0 for c in results["ddb_calls"].values())
    assert results["race"]["winners"] == 1
    bulk = results["bulk_claim_100"]  # its writes: one TransactWriteItems a chunk, 40 then 60 (tasks.bulk_chunks)
    assert bulk["tasks"] == 100 and bulk["writes"] == 2 and bulk["reads"] <= 2 and bulk["ms"] > 0
    assert results["scale"]["offset_start_0"]["round_trips"] >= 1
    assert results["queue_scale"]["0"]["items"] == results["queue_scale"]["50"]["items"] == 5
    assert set(results["queue_groups"]) == {"1", "3"}
    assert results["claim_next"]["given_twice"] == 0 and results["claim_next"]["problems"] == []
    assert 0 < results["hot_key_share"]["max_share"] <= 1
    people = results["people"]
    assert people["capacity_race"]["won"] == 3 and people["mix"]["loads_off"] == 0
    sweep = results["escalation_sweep"]
    assert sweep["due_among_10"]["fired"] == 10 and sweep["due_among_300"]["fired"] == 10
    assert sweep["due_among_300"]["due"] == 10  # the pending timers are never read
    assert sweep["round_trip_ratio"] <= 2 and sweep["capacity_ratio"] <= 2
    timers = results["timer_hot_keys"]
    assert timers["writes"] >= timers["changes"] and timers["keys"] > 1 and 0 < timers["max_share"] < 0.5
    late = results["escalation_lateness"]
    assert late["tasks"] == 10 and late["unfired"] == 0 and late["p99_s"] <= 2
    assert "| measure | result | goal |" in proc.stdout
    assert bulk["single_claim_ms"] > 0 and bulk["ratio_to_single"] > 0
    modelled = bulk["modelled"]  # the latency model answered the same calls, the bulk's writes concurrently
    assert modelled["bulk_calls"] == bulk["round_trips"] and modelled["single_calls"] == 2, modelled
    assert modelled["max_in_flight"] > 1 and modelled["ratio_to_single"] > 0, modelled
    served, spread, race = results["routing_served"], results["routing_spread"], results["routing_race"]
    assert served["tasks"] == 10 and served["unrouted"] == 0 and served["counts"] == [2, 2, 2, 2, 2], served
    assert spread["tasks"] == spread["routed"] == 10 and spread["max_spread"] <= 1, spread
    assert race["given_twice"] == 0 and race["capacity_breaches"] == 0 and race["loads_off"] == 0, race
    assert race["given"] == min(race["tasks"], race["users"] * race["capacity"]), race
    assert "`routing_race`" in proc.stdout and "`bulk_claim_100` against one claim" in proc.stdout
