"""Generated catalogs and usages (hypothesis): whatever the prices, minimums, coupons, taxes,
wallets and thresholds, every invoice adds up in Lago's order, no total is negative, no
wallet goes below zero and no credit is spent after its wallet expired. One example is one
whole world of customers billed by one `tally run`, so a few examples cover many cases."""
from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import duckdb
from conftest import tally
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

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


INVARIANTS = {
    "lines add up to fees_amount": """
        select i.invoice_id from billing.invoices i
        left join (select invoice_id, sum(amount) s from billing.invoice_lines group by 1) l using (invoice_id)
        where i.fees_amount <> coalesce(l.s, 0)""",
    "Lago order adds up": """
        select invoice_id from billing.invoices
        where sub_total_excluding_taxes <> fees_amount - progressive_billing_credit_amount - coupons_amount
           or sub_total_including_taxes <> sub_total_excluding_taxes + taxes_amount
           or total_amount <> sub_total_including_taxes - credit_notes_amount - prepaid_credit_amount""",
    "nothing negative": """
        select invoice_id from billing.invoices
        where least(fees_amount, coupons_amount, sub_total_excluding_taxes, taxes_amount, total_amount,
                    progressive_billing_credit_amount, prepaid_credit_amount, credit_notes_amount) < 0""",
    "wallet never below zero": "select * from billing.wallet_ledger where balance_amount < 0 or balance_credits < 0",
    "no credit spent after expiry": """
        select l.* from billing.wallet_ledger l join catalog.wallets w using (wallet_id)
        where l.entry_type = 'consumed' and w.expiration_at is not null
          and l.entry_at >= cast(replace(replace(w.expiration_at, 'T', ' '), 'Z', '') as timestamp)""",
    "wallets pay no more than was put in": """
        select wallet_id from billing.wallet_ledger group by 1
        having sum(case when entry_type = 'consumed' then -amount else 0 end)
             > sum(case when entry_type in ('purchased', 'granted') then amount else 0 end)""",
    "amounts in the currency's minor unit": """
        select invoice_id from billing.invoices
        where (currency = 'JPY' and total_amount <> round(total_amount, 0))
           or (currency = 'USD' and total_amount <> round(total_amount, 2))""",
    "invoice tax within half a minor unit per line of the sum of line taxes": """
        select i.invoice_id from billing.invoices i
        join (select invoice_id, sum(taxes_amount) t, count(*) n from billing.invoice_lines group by 1) l
          using (invoice_id)
        where abs(i.taxes_amount - l.t) > l.n * case i.currency when 'JPY' then 0.5 when 'KWD' then 0.0005
                                                                  else 0.005 end""",
}


# Each example is a whole `tally run` (about a minute, the suite's budget is 15): one generated
# world of 30-50 customers (each customer its own random mix of prices, minimums, coupons,
# taxes, wallets and thresholds), derandomized so CI is repeatable, and no shrinking (minutes
# per step); a failure prints the whole world, which `write_world` turns back into a catalog.
@settings(max_examples=1, deadline=None, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
@given(st.integers(30, 50).flatmap(lambda n: st.tuples(*[customer(k) for k in range(n)])))
def test_invariants_hold_for_generated_catalogs(tmp_path_factory, customers):
    root = tmp_path_factory.mktemp("world")
    cat, land = write_world(root, list(customers))
    warehouse = root / "w.duckdb"
    # the run itself also runs the dbt tests (invoice_amounts_add_up, no_credit_spent_after_expiry, ...)
    tally("run", "--catalog", str(cat), "--landing", str(land), "--warehouse", str(warehouse),
          "--from", "2026-10", "--to", "2026-11")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from billing.invoices where invoice_type = 'subscription'"
                           ).fetchone()[0] == 2 * len(customers)
        for name, sql in INVARIANTS.items():
            assert con.execute(sql).fetchall() == [], name
