"""The oracle's world: plain data, shared by the generator (world.py) and the rater (rating.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass
class Metric:
    code: str
    aggregation: str  # count_agg, sum_agg, max_agg, unique_count_agg, latest_agg, weighted_sum_agg
    field_name: str = ""
    recurring: bool = False
    rounding_function: str = ""  # round, ceil, floor or empty
    rounding_precision: int | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class ChargeFilter:
    values: dict[str, list[str]]  # key -> values (or ["__ALL_FILTER_VALUES__"])
    properties: dict


@dataclass
class Charge:
    id: str
    plan: str
    metric: str
    model: str
    properties: dict
    filters: list[ChargeFilter] = field(default_factory=list)
    group_keys: list[str] = field(default_factory=list)
    min_amount: Decimal | None = None
    tax_codes: list[str] = field(default_factory=list)


@dataclass
class Plan:
    code: str
    interval: str
    amount: Decimal
    currency: str
    pay_in_advance: bool
    trial_days: int
    charges: list[Charge] = field(default_factory=list)
    minimum_commitment: Decimal | None = None
    tax_codes: list[str] = field(default_factory=list)
    thresholds: list[tuple[Decimal, bool]] = field(default_factory=list)  # usage thresholds: (amount, recurring)


@dataclass
class Customer:
    id: str
    currency: str
    timezone: str
    tax_codes: list[str] = field(default_factory=list)


@dataclass
class Tax:
    code: str
    rate: Decimal  # percent
    applied_by_default: bool = False


@dataclass
class Coupon:
    code: str
    coupon_type: str  # fixed_amount or percentage
    amount: Decimal | None  # fixed_amount
    percentage_rate: Decimal | None  # percentage, in percent
    frequency: str  # once, recurring, forever
    frequency_duration: int | None = None


@dataclass
class AppliedCoupon:
    coupon: str
    customer: str
    applied_at: date


@dataclass
class Subscription:
    id: str
    customer: str
    plan: str
    started: date
    ending: date | None
    billing_time: str


@dataclass
class Event:
    tid: str
    sub: str
    code: str
    at: datetime  # aware, UTC
    properties: dict
    file: str = ""
    line: int = 0


@dataclass
class Wallet:
    id: str
    customer: str
    currency: str
    rate_amount: Decimal  # currency value of one credit
    priority: int | None  # 1 first; none = 50
    expiration_at: datetime | None


@dataclass
class WalletTransaction:
    wallet: str
    credits: Decimal
    kind: str  # purchased or granted
    created_at: datetime
    row: int = 0  # line of wallet_transactions.csv (header = 1), set by the writer


@dataclass
class World:
    seed: int
    months: tuple[str, str]  # first and last billing month, YYYY-MM
    customers: dict[str, Customer]
    metrics: dict[str, Metric]
    plans: dict[str, Plan]
    subscriptions: dict[str, Subscription]
    events: list[Event]
    taxes: dict[str, Tax] = field(default_factory=dict)
    coupons: dict[str, Coupon] = field(default_factory=dict)
    applied_coupons: list[AppliedCoupon] = field(default_factory=list)
    wallets: list[Wallet] = field(default_factory=list)
    wallet_transactions: list[WalletTransaction] = field(default_factory=list)
