"""The candidate catalog of `tally simulate`: a full catalog as it is, an overlay laid over the
current catalog row by row (orchestration/simulation/candidate.py)."""
import csv
import shutil
from pathlib import Path

import pytest

from orchestration.catalog import validate
from orchestration.simulation.candidate import CandidateError, prepare

SMALL = Path(__file__).resolve().parents[1] / "fixtures" / "small" / "catalog"


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_a_full_catalog_is_used_as_it_is(tmp_path):
    shutil.copytree(SMALL, tmp_path / "cand")
    cand = prepare(tmp_path / "cand", SMALL, tmp_path / "work")
    assert not cand.overlay and cand.folder == tmp_path / "cand"
    assert not (tmp_path / "work").exists()


def test_an_overlay_row_replaces_the_row_with_its_id_adds_new_ones_and_removes_marked_ones(tmp_path):
    _write(tmp_path / "cand" / "plans.csv",
           "code,name,interval,amount,currency,pay_in_advance,trial_period,minimum_commitment,_remove\n"
           "basic_usd,Basic,monthly,39.00,USD,false,0,,\n"
           "pro_usd,Pro,monthly,99.00,USD,false,0,,\n")
    _write(tmp_path / "cand" / "subscriptions.csv",
           "external_id,external_customer_id,plan_code,started_at,ending_at,billing_time,_remove\n"
           "sub_c,,,,,,true\n"
           "sub_a2,cus_a,pro_usd,2026-11-01,,calendar,\n")
    cand = prepare(tmp_path / "cand", SMALL, tmp_path / "work")
    assert cand.overlay and cand.changed == ("plans.csv", "subscriptions.csv")
    plans = {r["code"]: r for r in _rows(tmp_path / "work" / "plans.csv")}
    # the current order, the new row last; the replaced row is the overlay's, whole
    assert list(plans) == ["basic_usd", "adv_eur", "jp_jpy", "pro_usd"]
    assert plans["basic_usd"]["amount"] == "39.00" and plans["adv_eur"]["amount"] == "30.00"
    assert "_remove" not in plans["basic_usd"]
    subs = [r["external_id"] for r in _rows(tmp_path / "work" / "subscriptions.csv")]
    assert subs == ["sub_a", "sub_b", "sub_a2"]
    # the files the overlay does not hold are the current ones, byte for byte
    for name in ("customers.csv", "charges.csv", "billable_metrics.csv"):
        assert (tmp_path / "work" / name).read_bytes() == (SMALL / name).read_bytes()
    # and the merged folder is a valid catalog
    cat = validate(tmp_path / "work")
    assert len(cat.tables["subscriptions"][1]) == 3 and len(cat.tables["plans"][1]) == 4


def test_removing_a_row_the_current_catalog_does_not_hold_is_refused(tmp_path):
    _write(tmp_path / "cand" / "subscriptions.csv",
           "external_id,external_customer_id,plan_code,started_at,ending_at,billing_time,_remove\n"
           "sub_zz,,,,,,true\n")
    with pytest.raises(CandidateError, match=r"subscriptions.csv row 2: _remove names \{'external_id': 'sub_zz'\}"):
        prepare(tmp_path / "cand", SMALL, tmp_path / "work")


def test_a_file_that_is_no_catalog_file_is_refused(tmp_path):
    _write(tmp_path / "cand" / "plans.csv", (SMALL / "plans.csv").read_text())
    _write(tmp_path / "cand" / "prices.csv", "a,b\n1,2\n")
    with pytest.raises(CandidateError, match="prices.csv is no catalog file"):
        prepare(tmp_path / "cand", SMALL, tmp_path / "work")


def test_an_empty_or_missing_candidate_is_refused(tmp_path):
    (tmp_path / "cand").mkdir()
    with pytest.raises(CandidateError, match="holds no catalog file"):
        prepare(tmp_path / "cand", SMALL, tmp_path / "work")
    with pytest.raises(CandidateError, match="does not exist"):
        prepare(tmp_path / "nowhere", SMALL, tmp_path / "work")


def test_fx_rates_are_keyed_by_date_and_currency(tmp_path):
    current = tmp_path / "current"
    shutil.copytree(SMALL, current)
    _write(current / "fx_rates.csv", "date,currency,rate\n2026-09-01,EUR,1.08\n2026-10-01,EUR,1.09\n")
    _write(tmp_path / "cand" / "fx_rates.csv", "date,currency,rate\n2026-10-01,EUR,1.10\n2026-10-01,JPY,0.0068\n")
    prepare(tmp_path / "cand", current, tmp_path / "work")
    assert [(r["date"], r["currency"], r["rate"]) for r in _rows(tmp_path / "work" / "fx_rates.csv")] == [
        ("2026-09-01", "EUR", "1.08"), ("2026-10-01", "EUR", "1.10"), ("2026-10-01", "JPY", "0.0068")]


def test_a_problem_in_the_merged_catalog_names_the_row_the_user_wrote(tmp_path):
    # the overlay's only row (its line 2) lands on line 5 of the merged charges.csv (after c_calls,
    # c_tokens, c_gpus... it replaces c_gpus, line 4; a new row goes after the six current ones)
    _write(tmp_path / "cand" / "charges.csv",
           "id,plan_code,billable_metric_code,charge_model,properties,pay_in_advance,min_amount,"
           "invoice_display_name,filters\n"
           'c_new,basic_usd,gpus,tiered,"{""amount"": ""1""}",false,,New,\n'
           'c_gpus,basic_usd,gpus,standard,"{""amount"": ""8.00""}",false,,GPUs,\n')
    cand = prepare(tmp_path / "cand", SMALL, tmp_path / "work")
    assert cand.origins["charges.csv"][4] == f"{tmp_path / 'cand' / 'charges.csv'} row 3"
    assert cand.origins["charges.csv"][8] == f"{tmp_path / 'cand' / 'charges.csv'} row 2"
    assert cand.origins["charges.csv"][2] == "current charges.csv row 2"
    with pytest.raises(Exception) as refused:
        validate(cand.folder)
    located = [cand.locate(p) for p in refused.value.problems]
    assert located == [p.replace("charges.csv row 8", f"{tmp_path / 'cand' / 'charges.csv'} row 2", 1)
                       for p in refused.value.problems]
    assert any(p.startswith(f"{tmp_path / 'cand' / 'charges.csv'} row 2: charge_model 'tiered'") for p in located)
