"""wallet_transactions.csv: credits floored to 5 decimals, none after the wallet expires."""
from __future__ import annotations

from decimal import ROUND_FLOOR, Context, Decimal
from typing import NamedTuple

from orchestration.catalog_kit.cells import date_or_datetime, dec, instant
from orchestration.catalog_kit.check import Check
from orchestration.catalog_kit.files import Row
from orchestration.catalog_kit.tables import Int, Money, OptText, Text

WALLET_KINDS = {"purchased", "granted"}
CREDIT_STEP = Decimal("0.00001")  # Lago floors credits to 5 decimals on input


class WalletTransaction(NamedTuple):
    table = "wallet_transactions"
    wallet_id: Text
    credits: Money  # floored to CREDIT_STEP
    kind: Text
    created_at: OptText  # the ISO date or datetime as written
    line_number: Int  # the row of wallet_transactions.csv


def check(c: Check, expirations: dict[str, str | None]) -> None:
    """`expirations`: each wallet's expiration_at by id (wallets.check)."""
    problems = c.problems
    for r in c.rows["wallet_transactions.csv"]:
        d = r.data
        if d["wallet_id"] == "":
            problems.append(f"{r.where()}: wallet_id is required")
        elif d["wallet_id"] not in expirations:
            problems.append(f"{r.where()}: wallet_id {d['wallet_id']!r} does not exist in wallets.csv")
        credits = _credits(r, problems)
        if d["kind"] not in WALLET_KINDS:
            problems.append(f"{r.where()}: kind {d['kind']!r} is unknown (rule: one of {sorted(WALLET_KINDS)})")
        created = date_or_datetime(r, "created_at", problems, True)
        expiration = expirations.get(d["wallet_id"])
        if created and expiration and instant(created) > instant(expiration):
            problems.append(f"{r.where()}: created_at {created} is after wallet {d['wallet_id']!r} expiration_at "
                            f"{expiration} (rule: no credits on an expired wallet)")
        c.add(WalletTransaction(d["wallet_id"], credits, d["kind"], created, r.line))


def _credits(r: Row, problems: list[str]) -> Decimal | None:
    """Above 0, and still above 0 once floored to 5 decimals (the value kept)."""
    credits = dec(r, "credits", problems, allow_negative=True)
    if credits is not None:
        floored = credits.quantize(CREDIT_STEP, rounding=ROUND_FLOOR, context=Context(prec=60))
        if credits <= 0:
            problems.append(f"{r.where()}: credits={r.data['credits']!r} must be above 0 "
                            f"(rule: a transaction adds credits)")
        elif floored == 0:
            problems.append(f"{r.where()}: credits={r.data['credits']!r} is 0 once floored to 5 decimals "
                            f"(rule: credits > 0; Lago keeps 5 decimals of credits)")
        credits = floored
    return credits
