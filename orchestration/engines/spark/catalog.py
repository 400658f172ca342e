"""The validated catalog (orchestration/catalog: the same Python rules and rows) written as
Spark tables `catalog.*`, each replaced whole. Catalogs are rows of pricing, not events: the
rows go through the driver (createDataFrame of text, cast by Spark to each column's type)."""
from __future__ import annotations

import hashlib

from orchestration.catalog_kit.tables import Catalog, _text


def spark_type(sql_type: str) -> str:
    return "string" if sql_type == "varchar" else sql_type


def write(spark, cat: Catalog) -> dict[str, int]:
    from pyspark.sql import types as T
    counts = {}
    for name, (cols, data) in cat.tables.items():
        schema = T.StructType([T.StructField(f"c{i}", T.StringType()) for i in range(len(cols))])
        rows = [tuple(None if v is None else _text(v) for v in row) for row in data]
        df = spark.createDataFrame(rows, schema).selectExpr(
            *[f"cast(c{i} as {spark_type(t)}) as `{c}`" for i, (c, t) in enumerate(cols)])
        df.write.mode("overwrite").format("parquet").saveAsTable(f"catalog.{name}")
        counts[name] = len(data)
    # what loaded but is not billed, for the run summary (as orchestration/catalog_kit/tables.py)
    warnings = T.StructType([T.StructField("position", T.IntegerType()), T.StructField("message", T.StringType())])
    spark.createDataFrame(list(enumerate(cat.warnings, start=1)), warnings) \
        .write.mode("overwrite").format("parquet").saveAsTable("raw.catalog_warnings")
    return counts


def fingerprint(cat: Catalog) -> str:
    """The catalog's content, for raw.build_state (what the marts were built from)."""
    h = hashlib.sha256()
    for name, (cols, data) in sorted(cat.tables.items()):
        h.update(repr((name, cols, [tuple(map(str, r)) for r in data])).encode())
    return h.hexdigest()
