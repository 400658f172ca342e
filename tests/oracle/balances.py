"""Prepaid credits (lago-semantics.md §7, SPEC §5): a purchase is a `credit` invoice of
round(credits x rate_amount); grants are free. After taxes, each invoice with something to pay
takes from the customer's wallets of its currency, priority first (1..50, none = 50), then
wallet row order, up to each wallet's balance when the invoice is issued; a wallet expired by
then pays nothing."""
from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from tests.oracle.invoicing import issued, to_minor
from tests.oracle.model import World

ZERO = Decimal(0)


def money(world: World, tx) -> Decimal:
    wallet = next(w for w in world.wallets if w.id == tx.wallet)
    return to_minor(tx.credits * wallet.rate_amount, wallet.currency)


def credit_invoices(world: World, invoice_cls, line_cls) -> tuple[list, list]:
    invoices, lines = [], []
    for tx in world.wallet_transactions:
        if tx.kind != "purchased":
            continue
        wallet = next(w for w in world.wallets if w.id == tx.wallet)
        day = tx.created_at.astimezone(ZoneInfo(world.customers[wallet.customer].timezone)).date()
        inv_id = f"inv_credit_{wallet.id}_{tx.row}"
        amount = money(world, tx)
        invoices.append(invoice_cls(inv_id, "", wallet.customer, day, day, day, wallet.currency, amount,
                                    invoice_type="credit"))
        lines.append(line_cls(inv_id, "credit", "credit", None, None, tx.credits, 0, amount))
    return invoices, lines


def pay_with_wallets(world: World, invoices: list) -> None:
    """Sets prepaid_credit_amount on every subscription invoice."""
    order = {w.id: (w.priority or 50, k) for k, w in enumerate(world.wallets)}
    wallets = defaultdict(list)
    for w in sorted(world.wallets, key=lambda w: order[w.id]):
        wallets[w.customer].append(w)
    spent: dict[str, Decimal] = defaultdict(Decimal)
    due = [i for i in invoices if i.invoice_type != "credit" and i.customer in wallets]
    for inv in sorted(due, key=lambda i: (i.customer, _issued_at(world, i), i.invoice_id)):
        issued = _issued_at(world, inv)
        left = inv.sub_total_including_taxes
        for w in wallets[inv.customer]:
            if left <= 0:
                break
            if w.currency != inv.currency or (w.expiration_at is not None and w.expiration_at <= issued):
                continue
            balance = sum((money(world, t) for t in world.wallet_transactions
                           if t.wallet == w.id and t.created_at <= issued), ZERO) - spent[w.id]
            take = min(balance, left)
            if take > 0:
                spent[w.id] += take
                left -= take
                inv.prepaid_credit_amount += take


def _issued_at(world: World, inv) -> datetime:
    return issued(world, inv).astimezone(UTC)
