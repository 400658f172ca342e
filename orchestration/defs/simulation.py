"""The simulate_pricing job: `tally simulate` from the Dagster UI. Launch it with the candidate
folder and the months in the run config; the warehouse, the current catalog and the publish
folder are the `paths` resource's. The printed summary is the run's log and the op's output
metadata; the tables are simulation.* (billing is only read)."""
from dagster import Config, Definitions, MetadataValue, OpExecutionContext, Output, job, op
from pydantic import Field

from orchestration.defs.resources import TallyPaths
from orchestration.lib.warehouse import warehouse_lock
from orchestration.lib.window import partition_month


class SimulationConfig(Config):
    candidate: str = Field(description="Candidate catalog folder: a full catalog or an overlay of the changed files")
    from_month: str = Field(description="First billing month, YYYY-MM")
    to_month: str = Field(description="Last billing month, YYYY-MM (inclusive)")
    report: str | None = Field(default=None, description="Folder for simulation.html (none: no report)")


@op(description="Rate the months under the candidate catalog in the simulation schemas and compare "
                "with what was published.")
def simulate_candidate(context: OpExecutionContext, paths: TallyPaths, config: SimulationConfig) -> Output:
    from orchestration.simulation.run import simulate
    warehouse = paths.warehouse_path()
    with warehouse_lock(warehouse):
        outcome = simulate(config.candidate, paths.catalog_path(), warehouse, partition_month(config.from_month),
                           partition_month(config.to_month), config.report, paths.publish_path(),
                           progress=context.log.info)
    context.log.info(outcome.text)
    meta = {"summary": MetadataValue.md(f"```\n{outcome.text}\n```"),
            "candidate": "overlay of " + ", ".join(outcome.changed) if outcome.overlay else "full catalog"}
    if outcome.report:
        meta["report"] = MetadataValue.path(str(outcome.report))
    return Output(None, metadata=meta)


@job(description="Price a candidate catalog on the billed history: simulation.invoice_diff, line_diff, "
                 "summary and an optional report; billing and finalized are never written.")
def simulate_pricing():
    simulate_candidate()


defs = Definitions(jobs=[simulate_pricing])
