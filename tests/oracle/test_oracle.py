"""Tally against an independent oracle: a random world (tests/oracle/world.py) billed by ONE
`tally run` and rated again in plain Python from the reference rules (tests/oracle/rating.py);
every published invoice and invoice line must be equal to the cent.

The seed changes per run (time) and is printed; TALLY_ORACLE_SEED=<seed> replays a world.
Seeds that once found a bug are replayed too (REGRESSION_SEEDS, smaller worlds)."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.helpers import tally
from tests.oracle.compare import compare
from tests.oracle.rating import rate
from tests.oracle.world import generate_world, write_world

pytestmark = pytest.mark.e2e

SUBSCRIPTIONS = int(os.environ.get("TALLY_ORACLE_SUBSCRIPTIONS", "2000"))
# seed -> subscriptions: worlds where Tally and the oracle once disagreed (the generator has
# changed since, so each replays a world of today's generator from that seed, smaller)
REGRESSION_SEEDS: dict[int, int] = {
    2: 400,  # percentage on recurring sums: free units over the period only (left out of the world)
    3: 400,  # percentage free units on count metrics (left out); recurring weighted sum events_count
}


def bill_and_compare(seed: int, subscriptions: int, root: Path) -> None:
    print(f"\noracle world: seed {seed}, {subscriptions} subscriptions (replay: TALLY_ORACLE_SEED={seed} "
          f"TALLY_ORACLE_SUBSCRIPTIONS={subscriptions})")
    world = generate_world(seed, subscriptions=subscriptions)
    catalog, landing = write_world(world, root)
    invoices, lines = rate(world)
    started = time.monotonic()
    tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(root / "w.duckdb"),
          "--from", world.months[0], "--to", world.months[1], "--no-pages", "--publish", str(root / "published"))
    diff = compare(root / "w.duckdb", world, invoices, lines)
    print(f"{len(world.events)} events; tally run {time.monotonic() - started:.1f} s; "
          f"compared {diff.invoices_compared} invoices and {diff.lines_compared} invoice lines; "
          f"{len(diff.problems)} differ; {len(diff.tax_halves_short)} invoice taxes at an exact half one minor "
          f"unit short (known deviation, compare.py)")
    assert not diff.problems, "\n".join([f"seed {seed}:", *diff.problems[:40]])


def test_random_world_matches_the_oracle(tmp_path):
    seed = int(os.environ.get("TALLY_ORACLE_SEED") or time.time_ns() % 1_000_000_007)
    bill_and_compare(seed, SUBSCRIPTIONS, tmp_path)


@pytest.mark.parametrize("seed", sorted(REGRESSION_SEEDS))
def test_regression_seed(seed, tmp_path):
    bill_and_compare(seed, REGRESSION_SEEDS[seed], tmp_path)
