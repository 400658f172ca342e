"""Run the suites with Great Expectations (1.x, pandas datasource: GX's SQL path is broken on
DuckDB, see toolchain notes §5) and build Data Docs.

The warehouse is read with duckdb into pandas, one query per suite; the result is a plain
`SuiteResult` so callers (the Dagster asset checks, the CLI) never touch GX objects.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from expectations.suites import SUITES, Suite
from orchestration.folders import staging_folder, swap_in
from orchestration.lib.crash import crash_point

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Failure:
    expectation: str  # e.g. expect_column_values_to_be_between(total_value, min_value=0)
    unexpected_count: int | None
    examples: list

    def __str__(self) -> str:
        count = "" if self.unexpected_count is None else f": {self.unexpected_count} unexpected row(s)"
        examples = f", e.g. {self.examples[:3]}" if self.examples else ""
        return f"{self.expectation}{count}{examples}"


@dataclass
class SuiteResult:
    suite: str
    rows: int
    evaluated: int
    failures: list[Failure] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.failures

    def describe(self) -> str:
        if self.success:
            return f"suite {self.suite}: {self.evaluated} expectations passed on {self.rows} rows"
        return f"suite {self.suite} failed: " + "; ".join(str(f) for f in self.failures)


def _expectation_name(config) -> str:
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id", "column", "value_set")}
    column = config.kwargs.get("column")
    args = ([column] if column else []) + [f"{k}={v}" for k, v in kwargs.items()]
    return f"{config.type}({', '.join(str(a) for a in args)})"


def validate(warehouse: Path | None, window: dict[str, str], suites: tuple[Suite, ...] = SUITES,
             docs_dir: Path | None = None, read: Callable[[str], pd.DataFrame] | None = None) -> list[SuiteResult]:
    """Validate each suite's rows; when docs_dir is given, (re)build Data Docs there, swapped in whole.
    `read` runs a suite's query on another engine (Spark: the query on the session, to pandas);
    by default the query runs on the DuckDB `warehouse`."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    _main_module_for_pyspark()
    import great_expectations as gx
    import great_expectations.expectations as gxe

    context = gx.get_context(mode="ephemeral")
    staging_docs = None
    if docs_dir is not None:
        docs_dir.parent.mkdir(parents=True, exist_ok=True)
        staging_docs = staging_folder(docs_dir)
        context.add_data_docs_site(site_name="tally", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(staging_docs)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    source = context.data_sources.add_pandas("warehouse")
    results = []
    if read is not None:
        frames = {s.name: read(s.query.format(**window)) for s in suites}
    else:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            frames = {s.name: con.execute(s.query.format(**window)).df() for s in suites}
    crash_point("gx", "rows read")
    for s in suites:
        batch = source.add_dataframe_asset(s.name).add_batch_definition_whole_dataframe("window")
        suite = context.suites.add(gx.ExpectationSuite(name=s.name))
        for cls, kwargs in s.expectations:
            suite.add_expectation(getattr(gxe, cls)(**kwargs))
        definition = context.validation_definitions.add(gx.ValidationDefinition(name=s.name, data=batch, suite=suite))
        outcome = definition.run(batch_parameters={"dataframe": frames[s.name]})
        failures = [Failure(_expectation_name(r.expectation_config), r.result.get("unexpected_count"),
                            list(r.result.get("partial_unexpected_list") or []))
                    for r in outcome.results if not r.success]
        results.append(SuiteResult(s.name, len(frames[s.name]), len(outcome.results), failures))
        crash_point("gx", f"suite {s.name} validated")
    if staging_docs is not None:
        context.build_data_docs(site_names=["tally"])
        crash_point("gx", "Data Docs built, not swapped in")
        swap_in(staging_docs, docs_dir)
    return results


def _main_module_for_pyspark() -> None:
    """GX imports pyspark.sql.connect when pyspark is installed (the `spark` extra), and pyspark
    takes a `__main__` with neither spec nor file for its doctests and calls sys.exit(0) when the
    Spark Connect packages are missing. A Dagster run worker's `__main__` is such a module (started
    with `python -c`): without this, the gate's step ends the run worker (seen in the Dagster UI
    backfill with the `spark` extra installed)."""
    import sys
    main = sys.modules.get("__main__")
    if main is not None and getattr(main, "__spec__", None) is None and not hasattr(main, "__file__"):
        main.__file__ = "<tally>"
