# Every target builds the .venv it needs, so a fresh clone works with one command.
PY      := python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_DISABLE_TELEMETRY := 1
export GX_ANALYTICS_ENABLED := False
# every `tally run` is a new Python process importing Dagster, dbt and GX: without bytecode caches
# (some machines set PYTHONDONTWRITEBYTECODE) each one recompiles ~3,000 modules, a third of a
# small run. The venv is installed compiled and our own modules may cache theirs.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: venv venv-spark browser demo demo-spark test test-fast test-spark bench lint clean dagster

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q 'uv==0.13.8'
	$(BIN)/uv pip install -q --compile-bytecode -p $(BIN)/python -e '.[dev]'
	touch $(STAMP)

# the same .venv plus the Spark packages (pyproject's `spark` group: dbt-spark session, pyspark);
# Spark itself needs a Java 17 runtime on PATH
SPARK_STAMP := $(VENV)/.installed-spark
venv-spark: $(SPARK_STAMP)

$(SPARK_STAMP): $(STAMP) pyproject.toml
	$(BIN)/uv pip install -q --compile-bytecode -p $(BIN)/python -e '.[dev,spark]'
	touch $(SPARK_STAMP)

# the browser tests' Chromium: Debian's package, driven by Playwright (no browser download). Where
# it cannot be installed (not root, no apt) the browser tests are skipped and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    { DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
	      { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }; }; } || \
	  echo "no Chromium, and it cannot be installed here: the browser tests will be skipped"

# DEMO_EVENTS=100000000 make demo adds that many events to November (DuckDB-generated)
DEMO_EVENTS ?= 0
demo: venv
	$(BIN)/python -m seeds.generate_demo --out seeds/landing --bulk-events $(DEMO_EVENTS)
	mkdir -p .dagster_home && cp orchestration/dagster_home/dagster.yaml .dagster_home/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/.dagster_home $(BIN)/tally run --catalog seeds/catalog --landing seeds/landing --warehouse warehouse/tally.duckdb --publish published --from 2026-09 --to 2026-11

# the same demo billed on Spark (tally run --engine spark, a local session; Java 17): published_spark/
# holds the files `make demo` writes to published/, byte for byte (but data_docs)
demo-spark: venv-spark
	$(BIN)/python -m seeds.generate_demo --out seeds/landing --bulk-events $(DEMO_EVENTS)
	$(BIN)/tally run --engine spark --catalog seeds/catalog --landing seeds/landing --warehouse warehouse/spark/tally.duckdb --publish published_spark --from 2026-09 --to 2026-11

# everything, tests/unit and tests/e2e, on two workers: most of an e2e test's time is one `tally run`
# (single-threaded Python). One file at a time per worker, except that the files sharing a billed
# world go to one worker together (tests/conftest.py: SHARED_WORLDS), which bills it once. The Spark
# parity test (tests/e2e/test_spark_parity.py, issue 14) is part of it, hence the spark extra; the
# dbt unit tests on Spark and the pay-in-advance world on Spark are `make test-spark`.
test: venv-spark browser
	$(BIN)/python -m orchestration.prepare
	$(BIN)/python -m pytest -q -n 2 --dist loadfile -m "not spark_unit" $(PYTEST_ARGS)

# the unit layer only (tests/unit: no warehouse billed, no `tally run`, no dbt): seconds, one process.
# prepare only parses dbt when the manifest the Dagster definitions load is missing or stale.
test-fast: venv
	$(BIN)/python -m orchestration.prepare
	$(BIN)/python -m pytest -q -m "not e2e" tests/unit $(PYTEST_ARGS)

# the rest of the Spark proof (CI runs it after make test): the pay-in-advance and conservation
# worlds billed on both engines and the dbt unit tests on Spark (tests/e2e/test_spark_unit_tests.py)
test-spark: venv-spark
	$(BIN)/python -m orchestration.prepare
	$(BIN)/python -m pytest -q -rP -m "spark_unit" tests/e2e/test_spark_unit_tests.py $(PYTEST_ARGS)

# the Dagster UI on http://127.0.0.1:3000 over the demo warehouse: assets, checks, schedules,
# backfills, the finalize_month job; runs queue one at a time (orchestration/dagster_home)
dagster: venv
	mkdir -p .dagster_home && cp orchestration/dagster_home/dagster.yaml .dagster_home/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/.dagster_home TALLY_WAREHOUSE=$(CURDIR)/warehouse/tally.duckdb \
	  TALLY_FIRST_MONTH=$${TALLY_FIRST_MONTH:-$$($(BIN)/python -m orchestration.first_month warehouse/tally.duckdb)} \
	  TALLY_CATALOG=$(CURDIR)/seeds/catalog TALLY_LANDING=$(CURDIR)/seeds/landing TALLY_PUBLISH=$(CURDIR)/published \
	  $(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

# BENCH_ENGINE=spark (or both) bills the month on a local Spark session too: needs the spark extra
bench: venv $(if $(filter spark both,$(BENCH_ENGINE)),venv-spark)
	$(BIN)/python -m benchmarks.run

# sqlfluff's dbt templater compiles every model: against a throw-away warehouse, never yours
lint: venv
	$(BIN)/ruff check orchestration seeds tests benchmarks expectations
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  TALLY_WAREHOUSE=$$tmp/lint.duckdb $(BIN)/sqlfluff lint dbt_project/models --processes 2

clean:
	rm -rf warehouse published published_spark seeds/landing dbt_project/target dbt_project/logs
