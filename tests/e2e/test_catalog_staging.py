"""The money staging models over a catalog with every money file (taxes, wallets, coupons, fx
rates): `dbt run` of those models on a warehouse the catalog loader filled. The catalog edits
are tests/unit/test_catalog.py's."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from orchestration.catalog import load
from orchestration.paths import DBT_PROJECT_DIR
from tests.unit.test_catalog import DEMO, add_coupons, add_taxes, add_wallets, copy_catalog, query, read_csv

# ---------------------------------------------------------------- the staging models over them

MONEY_STAGING = ["stg_taxes", "stg_customer_taxes", "stg_plan_taxes", "stg_charge_taxes", "stg_wallets",
                 "stg_wallet_transactions", "stg_coupons", "stg_applied_coupons", "stg_fx_rates"]


def test_money_staging_models(tmp_path):
    folder = add_coupons(add_wallets(add_taxes(copy_catalog(tmp_path))))
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        load(con, folder)
    env = {**os.environ, "TALLY_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    run = subprocess.run([str(Path(sys.executable).with_name("dbt")), "run", "--select", *MONEY_STAGING,
                          "--profiles-dir", str(DBT_PROJECT_DIR), "--project-dir", str(DBT_PROJECT_DIR),
                          "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
                         capture_output=True, text=True, env=env, cwd=DBT_PROJECT_DIR, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        def rows(model: str, order: str) -> list[tuple]:
            return query(con, f"select * from staging.{model} order by {order}")

        def columns(model: str) -> list[str]:
            return [c[0] for c in con.execute(f"select * from staging.{model} limit 0").description]

        assert {m: columns(m) for m in MONEY_STAGING} == {
            "stg_taxes": ["tax_code", "tax_name", "rate", "applied_by_default"],
            "stg_customer_taxes": ["external_customer_id", "tax_code"],
            "stg_plan_taxes": ["plan_code", "tax_code"],
            "stg_charge_taxes": ["charge_id", "tax_code"],
            "stg_wallets": ["wallet_id", "external_customer_id", "currency", "rate_amount", "priority", "expires_at",
                            "wallet_order"],
            "stg_wallet_transactions": ["wallet_id", "credits", "kind", "created_at", "line_number"],
            "stg_coupons": ["coupon_code", "coupon_type", "amount", "percentage_rate", "frequency",
                            "frequency_duration"],
            "stg_applied_coupons": ["coupon_code", "external_customer_id", "applied_at", "applied_order"],
            "stg_fx_rates": ["rate_date", "currency", "rate"],
        }
        assert rows("stg_taxes", "tax_code") == [
            ("reduced", "Reduced VAT", Decimal("5.5"), False), ("vat_fr", "TVA", Decimal(20), True),
            ("zero", "Exempt", Decimal(0), False)]
        assert rows("stg_customer_taxes", "all") == [("cus_001", "reduced"), ("cus_001", "vat_fr"),
                                                     ("cus_002", "zero")]
        assert rows("stg_plan_taxes", "all") == [("starter_usd", "reduced")]
        assert rows("stg_charge_taxes", "all") == [("ch_pro_seats", "vat_fr"), ("ch_pro_seats", "zero")]
        # expiration: none; a bare date (00:00 UTC); 12:00 at +01:00
        assert rows("stg_wallets", "wallet_order") == [
            ("w_acme", "cus_001", "USD", Decimal(1), 50, None, 2),
            ("w_acme_promo", "cus_001", "USD", Decimal("0.5"), 1, datetime(2026, 12, 31), 3),
            ("w_lumiere", "cus_061", "EUR", Decimal(2), 50, datetime(2026, 11, 15, 11), 4)]
        assert rows("stg_wallet_transactions", "line_number") == [
            ("w_acme", Decimal(100), "purchased", datetime(2026, 9, 1), 2),
            ("w_acme_promo", Decimal("10.12345"), "granted", datetime(2026, 9, 15, 8, 30), 3),
            ("w_lumiere", Decimal("0.00001"), "purchased", datetime(2026, 11, 15, 11), 4),
            ("w_acme", Decimal("25.5"), "granted", datetime(2026, 10, 1), 5)]
        assert rows("stg_coupons", "coupon_code") == [
            ("launch", "percentage", None, Decimal("12.5"), "recurring", 3),
            ("loyal", "fixed_amount", Decimal(5), None, "recurring", 12),
            ("partner", "percentage", None, Decimal(100), "forever", None),
            ("welcome", "fixed_amount", Decimal(50), None, "once", None)]
        assert rows("stg_applied_coupons", "applied_order") == [
            ("welcome", "cus_001", datetime(2026, 9, 1), 2),
            ("launch", "cus_001", datetime(2026, 9, 2, 10), 3),
            ("partner", "cus_061", datetime(2026, 9, 30, 22), 4),
            ("loyal", "cus_002", datetime(2026, 10, 15, 8), 5)]
        assert rows("stg_fx_rates", "all") == [
            (date.fromisoformat(r["date"]), r["currency"], Decimal(r["rate"])) for r in read_csv(DEMO, "fx_rates.csv")]
