"""`tally simulate`: the billed months rated again under a candidate catalog, beside the real
ones, and compared with what was published (issue 16, docs/decisions.md 33).

- candidate.py: the candidate catalog, a full catalog or an overlay on the current one;
- rating.py: the same dbt models built into `simulation_*` schemas from the same landed events;
- diff.py: `simulation.invoice_diff`, `line_diff` and `summary` against `billing`;
- report.py: `<report>/simulation.html` and the printed summary;
- run.py: the steps in order, shared by the command and the `simulate_pricing` Dagster job.
`billing`, `finalized`, `catalog` and `raw` are only read."""
