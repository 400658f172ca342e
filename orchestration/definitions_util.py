"""Keep Dagster's per-event logging off the terminal for CLI runs (the CLI prints progress)."""
import logging
import os
import warnings


def quiet_dagster() -> None:
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    warnings.filterwarnings("ignore")
    for name in ("dagster", "dagster_dbt"):
        logging.getLogger(name).setLevel(logging.ERROR)
