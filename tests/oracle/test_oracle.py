"""Tally against an independent oracle: a random world (tests/oracle/world.py) billed by ONE
`tally run` and rated again in plain Python from the reference rules (tests/oracle/rating.py);
every published invoice and invoice line must be equal to the cent.

The seed changes per run (time) and is printed; TALLY_ORACLE_SEED=<seed> replays a world.
Seeds that once found a bug are replayed too (REGRESSION_SEEDS, smaller worlds)."""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests.helpers import tally
from tests.oracle.compare import compare
from tests.oracle.files import write_world
from tests.oracle.merge import merged
from tests.oracle.model import World
from tests.oracle.rating import rate
from tests.oracle.world import generate_world

pytestmark = pytest.mark.e2e

SUBSCRIPTIONS = int(os.environ.get("TALLY_ORACLE_SUBSCRIPTIONS", "2000"))
# seed -> subscriptions: worlds where Tally and the oracle once disagreed. The generator has
# grown since, so each replays today's world of that seed (smaller, to keep the run short); the
# bug itself is pinned by its own test (named below).
REGRESSION_SEEDS: dict[int, int] = {
    2: 300,  # percentage on recurring sums: free units over the period only (fixed; _unit_tests_charge_fees.yml)
    3: 300,  # percentage free units on count metrics; recurring weighted-sum events_count since the
             # start (fixed; _unit_tests_charge_fees.yml, _unit_tests_usage_by_period.yml)
    7: 300,  # percentage coupon in DOUBLE: 2.0035 -> 2.003 (fixed; _unit_tests_coupons.yml)
    10: 300,  # wallet purchase after UTC midnight on the window's last local day: ledger < 0, publish
              # blocked (fixed; tests/e2e/test_wallet_ledger_window.py)
    11: 300,  # progressive billing: true-ups left out of lifetime usage (fixed;
              # _unit_tests_progressive.yml: progressive_lifetime_usage_counts_earlier_true_ups)
    12: 300,  # progressive billing: a period's start is no step; taxes at an exact half with a
              # credit share rounded either way (fixed: shares to 5 decimals of the minor unit;
              # _unit_tests_taxes.yml: taxes_shares_rounded_to_5_decimals_of_the_minor_unit_then_exact)
}
# seeds CI drew that failed at 2,000 subscriptions (replay: TALLY_ORACLE_SEED=<seed>
# TALLY_ORACLE_SUBSCRIPTIONS=2000), both pass now:
# 83055964: a weighted sum at an exact half of the minor unit (fixed: decision 32)
# 270359984: the generator's events after a subscription ending on a DST day (fixed: world.py)
EVENTS_SENT = re.compile(r"events sent: (\d+) = billed (\d+) \+ quarantined (\d+) \+ duplicates ignored (\d+)")


def bill_and_compare(world: World, label: str, root: Path) -> None:
    catalog, landing = write_world(world, root)
    invoices, lines = rate(world)
    started = time.monotonic()
    proc = tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(root / "w.duckdb"),
                 "--from", world.months[0], "--to", world.months[1], "--no-pages", "--publish",
                 str(root / "published"))
    # every generated event billed; the noise file's resends ignored or quarantined, never billed
    _, billed, _, _ = map(int, EVENTS_SENT.search(proc.stdout).groups())
    assert billed == len(world.events), (label, proc.stdout[-2000:])
    diff = compare(root / "w.duckdb", world, invoices, lines)
    print(f"{len(world.events)} events; tally run {time.monotonic() - started:.1f} s; "
          f"compared {diff.invoices_compared} invoices and {diff.lines_compared} invoice lines; "
          f"{len(diff.problems)} differ")
    assert not diff.problems, "\n".join([label, *diff.problems[:40]])


def test_random_world_matches_the_oracle(tmp_path):
    seed = int(os.environ.get("TALLY_ORACLE_SEED") or time.time_ns() % 1_000_000_007)
    label = (f"oracle world: seed {seed}, {SUBSCRIPTIONS} subscriptions (replay: TALLY_ORACLE_SEED={seed} "
             f"TALLY_ORACLE_SUBSCRIPTIONS={SUBSCRIPTIONS})")
    print("\n" + label)
    bill_and_compare(generate_world(seed, subscriptions=SUBSCRIPTIONS), label, tmp_path)


def test_regression_seeds(tmp_path):
    """The regression worlds, each under its own prefix, billed by one run."""
    label = f"oracle regression worlds {REGRESSION_SEEDS} (ids prefixed r<seed>_)"
    print("\n" + label)
    worlds = {f"r{seed}_": generate_world(seed, subscriptions=n) for seed, n in REGRESSION_SEEDS.items()}
    bill_and_compare(merged(worlds), label, tmp_path)
