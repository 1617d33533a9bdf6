"""Given the local stack served over HTTP on 127.0.0.1, when a few virtual users load every
branch for a few seconds (bench/load.py's own code), then nothing fails on the server and every
turn sent is stored exactly once."""

from __future__ import annotations

import asyncio

from bench.load import BRANCHES, run_load, summary
from orchestrator.local.runtime import LocalRuntime
from tests.support.served import served

USERS = 5
DURATION_S = 5.0


def test_a_short_load_has_no_server_errors_and_stores_each_turn_once(stack: LocalRuntime) -> None:
    from orchestrator.api import create_app

    with served(create_app()) as base_url:
        report = asyncio.run(run_load(base_url, users=USERS, duration_s=DURATION_S, grace_s=10.0))

    text = "\n".join(summary(report))
    assert report.server_errors() == [], text
    assert not report.errors(), text
    assert {s.branch for s in report.samples} >= set(BRANCHES), text
    assert report.cache_hits >= 1, text
    assert report.storage_checked == len(report.turns) >= len(BRANCHES), text
    assert report.storage_misses == {}, text
