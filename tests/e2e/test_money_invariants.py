"""Generated catalogs and usages (hypothesis): whatever the prices, minimums, coupons, taxes,
wallets and thresholds, every invoice adds up in Lago's order, no total is negative, no
wallet goes below zero, no credit is spent after its wallet expired, and the plan and usage
fees are exactly what the rules give. Hypothesis generates EXAMPLES worlds of a few customers
each (each customer its own random mix); customers of different worlds share nothing, so all
the worlds are billed together by one `tally run` and every world is then checked on its own:
one test per world and property, named by the world's number."""
from __future__ import annotations

import json
from decimal import ROUND_CEILING, ROUND_HALF_UP
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.helpers import tally

CURRENCIES = {"USD": 2, "JPY": 0, "KWD": 3}
money = st.decimals(min_value=0, max_value=200, places=2)


@st.composite
def customer(draw, k: int) -> dict:
    cur = draw(st.sampled_from(sorted(CURRENCIES)))
    c = {"id": f"c{k}", "currency": cur,
         "plan_amount": draw(money), "commitment": draw(st.none() | money),
         "price": draw(st.decimals(min_value=0, max_value=5, places=3)),
         "package": draw(st.booleans()), "min_amount": draw(st.none() | money),
         "tax": draw(st.sampled_from(["", "t1", "t1;t2"])), "charge_tax": draw(st.booleans()),
         "coupon": draw(st.none() | st.sampled_from(["pct_once", "pct_rec", "fix_once", "fix_forever"])),
         "coupon_day": draw(st.integers(1, 60)),
         "wallets": draw(st.lists(st.tuples(
             st.decimals(min_value=D("0.001"), max_value=2, places=3),      # rate_amount
             st.integers(1, 50),                                             # priority
             st.none() | st.integers(1, 75),                                 # expires after day
             st.lists(st.tuples(st.integers(1, 200), st.integers(0, 60), st.booleans()), max_size=3)),
             max_size=2)),
         "thresholds": draw(st.lists(st.integers(1, 150), max_size=2, unique=True)),
         "recurring": draw(st.none() | st.integers(5, 80)),
         "calls": [draw(st.integers(0, 60)), draw(st.integers(0, 60))]}
    return c


def day(n: int) -> str:
    """Day n after 2026-10-01 (UTC), as an ISO timestamp at noon."""
    from datetime import date, timedelta
    return f"{date(2026, 10, 1) + timedelta(days=n)}T12:00:00Z"


def write_world(root: Path, customers: list[dict]) -> tuple[Path, Path]:
    cat, land = root / "catalog", root / "landing"
    cat.mkdir()
    land.mkdir()
    files = {
        "customers.csv": ["external_id,name,currency,timezone,tax_codes"],
        "billable_metrics.csv": [("code,name,aggregation_type,field_name,recurring,rounding_function,"
                                  "rounding_precision,filters"), "calls,Calls,count_agg,,false,,,"],
        "plans.csv": ["code,name,interval,amount,currency,pay_in_advance,trial_period,minimum_commitment"],
        "charges.csv": [("id,plan_code,billable_metric_code,charge_model,properties,pay_in_advance,min_amount,"
                         "invoice_display_name,filters,tax_codes")],
        "subscriptions.csv": ["external_id,external_customer_id,plan_code,started_at,ending_at,billing_time"],
        "taxes.csv": ["code,name,rate,applied_by_default", "t1,Tax one,7.5,false", "t2,Tax two,12.25,false",
                      "t3,Charge tax,3,false", "t0,Default tax,5,true"],
        "coupons.csv": ["code,coupon_type,amount,percentage_rate,frequency,frequency_duration",
                        "pct_once,percentage,,15,once,", "pct_rec,percentage,,33.3,recurring,2",
                        "fix_once,fixed_amount,25.55,,once,", "fix_forever,fixed_amount,7.777,,forever,"],
        "applied_coupons.csv": ["coupon_code,external_customer_id,applied_at"],
        "wallets.csv": ["id,external_customer_id,currency,rate_amount,priority,expiration_at"],
        "wallet_transactions.csv": ["wallet_id,credits,kind,created_at"],
        "usage_thresholds.csv": ["plan_code,amount,recurring"],
    }
    events = []
    for c in customers:
        k, cur = c["id"], c["currency"]
        files["customers.csv"].append(f"{k},Customer {k},{cur},UTC,{c['tax']}")
        files["plans.csv"].append(f"p_{k},Plan {k},monthly,{c['plan_amount']},{cur},false,0,{c['commitment'] or ''}")
        props = ({"amount": str(c["price"] * 10), "package_size": 7, "free_units": 3} if c["package"]
                 else {"amount": str(c["price"])})
        model = "package" if c["package"] else "standard"
        files["charges.csv"].append(
            f"ch_{k},p_{k},calls,{model},\"{json.dumps(props).replace(chr(34), chr(34) * 2)}\",false,"
            f"{c['min_amount'] or ''},Calls,,{'t3' if c['charge_tax'] else ''}")
        files["subscriptions.csv"].append(f"s_{k},{k},p_{k},2026-10-01,,calendar")
        if c["coupon"]:
            files["applied_coupons.csv"].append(f"{c['coupon']},{k},{day(c['coupon_day'])}")
        for w, (rate, prio, expires, txs) in enumerate(c["wallets"]):
            wid = f"w_{k}_{w}"
            files["wallets.csv"].append(f"{wid},{k},{cur},{rate},{prio},{day(expires) if expires else ''}")
            for credits, d, bought in txs:
                if expires is None or d <= expires:
                    files["wallet_transactions.csv"].append(
                        f"{wid},{credits},{'purchased' if bought else 'granted'},{day(d)}")
        for t in c["thresholds"]:
            files["usage_thresholds.csv"].append(f"p_{k},{t},false")
        if c["recurring"]:
            files["usage_thresholds.csv"].append(f"p_{k},{c['recurring']},true")
        for month, n in enumerate(c["calls"]):
            for i in range(n):
                events.append({"transaction_id": f"{k}_{month}_{i}", "external_subscription_id": f"s_{k}",
                               "code": "calls", "timestamp": day(month * 31 + (i * 29) % 30) [:11]
                               + f"{i % 24:02d}:{i % 60:02d}:00Z", "properties": {}})
    for name, lines in files.items():
        (cat / name).write_text("\n".join(lines) + "\n")
    (land / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    return cat, land


# each query returns the offending rows, the customer first
INVARIANTS = {
    "lines add up to fees_amount": """
        select i.external_customer_id, i.invoice_id from billing.invoices i
        left join (select invoice_id, sum(amount) s from billing.invoice_lines group by 1) l
          using (invoice_id)
        where i.fees_amount <> coalesce(l.s, 0)""",
    "Lago order adds up": """
        select external_customer_id, invoice_id from billing.invoices
        where sub_total_excluding_taxes <> fees_amount - progressive_billing_credit_amount - coupons_amount
           or sub_total_including_taxes <> sub_total_excluding_taxes + taxes_amount
           or total_amount <> sub_total_including_taxes - credit_notes_amount - prepaid_credit_amount""",
    "nothing negative": """
        select external_customer_id, invoice_id from billing.invoices
        where least(fees_amount, coupons_amount, sub_total_excluding_taxes, taxes_amount, total_amount,
                    progressive_billing_credit_amount, prepaid_credit_amount, credit_notes_amount) < 0""",
    "wallet never below zero": """
        select w.external_customer_id, l.* from billing.wallet_ledger l
        join catalog.wallets w using (wallet_id)
        where l.balance_amount < 0 or l.balance_credits < 0""",
    "no credit spent after expiry": """
        select w.external_customer_id, l.* from billing.wallet_ledger l
        join catalog.wallets w using (wallet_id)
        where l.entry_type = 'consumed' and w.expiration_at is not null
          and l.entry_at >= cast(replace(replace(w.expiration_at, 'T', ' '), 'Z', '') as timestamp)""",
    "wallets pay no more than was put in": """
        select w.external_customer_id, l.wallet_id from billing.wallet_ledger l
        join catalog.wallets w using (wallet_id)
        group by 1, 2
        having sum(case when l.entry_type = 'consumed' then -l.amount else 0 end)
             > sum(case when l.entry_type in ('purchased', 'granted') then l.amount else 0 end)""",
    "amounts in the currency's minor unit": """
        select external_customer_id, invoice_id from billing.invoices
        where (currency = 'JPY' and total_amount <> round(total_amount, 0))
           or (currency = 'USD' and total_amount <> round(total_amount, 2))""",
    "invoice tax within half a minor unit per line of the sum of line taxes": """
        select i.external_customer_id, i.invoice_id from billing.invoices i
        join (select invoice_id, sum(taxes_amount) t, count(*) n from billing.invoice_lines group by 1) l
          using (invoice_id)
        where abs(i.taxes_amount - l.t) > l.n * case i.currency when 'JPY' then 0.5 when 'KWD' then 0.0005
                                                                  else 0.005 end""",
    # no charge is prorated here: every line (subscription, charge, true-up, commitment, credit,
    # progressive) shows its units as its full units (decision 25)
    "full units are the units of a line that is not prorated": """
        select i.external_customer_id, l.line_id from billing.invoice_lines l
        join billing.invoices i using (invoice_id)
        where l.full_units is distinct from l.units""",
}


# Many examples, one run: hypothesis draws EXAMPLES worlds of 1-4 customers (derandomized, so CI
# is repeatable; generation only, no shrinking: a step would be a whole run), the customers are
# renamed e<world>_c<k> and every world is billed by the same `tally run` (about a minute, as
# one world used to be). A failing test names its world and prints it: `write_world` turns it
# back into a catalog and landing folder of its own.
EXAMPLES = 60
MONTHS = ("20261001", "20261101")


def generate_worlds() -> list[list[dict]]:
    worlds: list[list[dict]] = []

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.integers(1, 4).flatmap(lambda n: st.tuples(*[customer(k) for k in range(n)])))
    def collect(customers):
        worlds.append([{**c, "id": f"e{len(worlds)}_{c['id']}"} for c in customers])

    collect()
    return worlds


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict:
    worlds = generate_worlds()
    assert len(worlds) == EXAMPLES
    root = tmp_path_factory.mktemp("worlds")
    cat, land = write_world(root, [c for world in worlds for c in world])
    warehouse = root / "w.duckdb"
    # the run itself also runs the dbt tests (invoice_amounts_add_up, no_credit_spent_after_expiry, ...)
    tally("run", "--catalog", str(cat), "--landing", str(land), "--warehouse", str(warehouse),
          "--from", "2026-10", "--to", "2026-11", "--publish", str(root / "published"))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        subscription_invoices = dict(con.execute(
            "select external_customer_id, count(*) from billing.invoices where invoice_type = 'subscription' "
            "group by 1").fetchall())
        violations = {name: con.execute(sql).fetchall() for name, sql in INVARIANTS.items()}
        fees = {(line_id, fee_type): amount for line_id, fee_type, amount in con.execute(
            "select line_id, fee_type, amount from billing.invoice_lines "
            "where fee_type in ('subscription', 'charge')").fetchall()}
    return {"worlds": worlds, "subscription_invoices": subscription_invoices, "violations": violations,
            "fees": fees}


def shown(world: list[dict]) -> str:
    return json.dumps(world, default=str, indent=1)


def test_invariants_hold_over_all_generated_worlds(generated):
    """The whole run at once, as one world used to be checked: two subscription invoices per
    customer, and no offending row at all (the tests per world below say which world broke)."""
    customers = [c["id"] for world in generated["worlds"] for c in world]
    assert sum(generated["subscription_invoices"].values()) == 2 * len(customers)
    assert {name: found for name, found in generated["violations"].items() if found} == {}


@pytest.mark.parametrize("example", range(EXAMPLES))
def test_invariants_hold_for_generated_catalogs(generated, example):
    world = generated["worlds"][example]
    ids = {c["id"] for c in world}
    counts = {k: generated["subscription_invoices"].get(k, 0) for k in ids}
    assert counts == dict.fromkeys(ids, 2), shown(world)
    for name, found in generated["violations"].items():
        assert [r for r in found if r[0] in ids] == [], f"{name}\n{shown(world)}"


def minor(amount: D, currency: str) -> D:
    return amount.quantize(D(1).scaleb(-CURRENCIES[currency]), rounding=ROUND_HALF_UP)


def usage_fee(c: dict, units: int) -> D:
    """Lago's standard (units × amount) or package (free units first, then every started package
    of 7 at 10 × price; nothing up to 3 units) as write_world prices the calls."""
    if not c["package"]:
        return units * c["price"]
    if units <= 3:
        return D(0)
    return (D(units - 3) / 7).to_integral_value(rounding=ROUND_CEILING) * (c["price"] * 10)


@pytest.mark.parametrize("example", range(EXAMPLES))
def test_plan_and_usage_fees_are_what_the_rules_give(generated, example):
    """Each month, in arrears, whole months from Oct 1: the plan fee in full, and the calls of the
    month priced by the charge model, each rounded half up to the currency's minor unit (a fee
    line may be left out when it is zero)."""
    world = generated["worlds"][example]
    got, want = {}, {}
    for c in world:
        for month, calls in zip(MONTHS, c["calls"], strict=True):
            invoice = f"inv_s_{c['id']}_{month}"
            plan = (f"{invoice}:subscription:{month}", "subscription")
            charge = (f"{invoice}:ch_{c['id']}:0", "charge")
            want[plan] = minor(c["plan_amount"], c["currency"])
            want[charge] = minor(usage_fee(c, calls), c["currency"])
            got[plan] = generated["fees"].get(plan, D(0))
            got[charge] = generated["fees"].get(charge, D(0))
    assert got == want, shown(world)
