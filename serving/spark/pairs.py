"""Candidate generation on Spark: a grid join, never a cross join.

The globe is cut into grid cells of `cell` degrees; each open workplace falls in one cell, each
consenting, active candidate is exploded into every cell its commute's bounding box touches
(exact on the sphere, across the antimeridian and near the poles), the workplaces are broadcast
and joined on the cell, and the pairs are kept by the local engine's haversine test and
required-support rule (`matching.candidates`), so the pairs are exactly the local engine's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from features.pairs import EARTH_RADIUS_KM
from features.support import OFFERED, REQUIRED_NEED
from matching.model import SHARED_COLUMNS, pair_records
from serving.spark.session import pandas3_quiet

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180.0
CELL_QUANTILE = 0.9  # cells as wide as this quantile of the commutes...
MAX_CELLS_ACROSS = 32  # ...but no candidate's commute is more than this many cells across
EDGE = 1e-9  # radians added to each bounding box, so rounding never loses a pair on its edge
GENERATION_COLUMNS = ("candidate_lat", "candidate_lon", "max_commute_km", "consent", "candidate_active")


def record_sides(candidates: pd.DataFrame, workplaces: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The pair-record columns from each side, named and chosen as `pair_records` does."""
    empty = np.zeros(0, dtype=np.int64)
    columns = list(pair_records(candidates, workplaces, empty, empty).columns)
    left = [f"candidate_{c}" if c in SHARED_COLUMNS else str(c) for c in candidates.columns]
    return left, [c for c in columns if c not in left]


def to_spark(spark: SparkSession, frame: pd.DataFrame) -> DataFrame:
    """A pandas table as a Spark DataFrame through Arrow; list cells become `array<string>`."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, field in enumerate(table.schema):
        if pa.types.is_list(field.type) and pa.types.is_null(field.type.value_type):  # every list empty
            table = table.set_column(i, field.name, table.column(i).cast(pa.list_(pa.string())))
    with pandas3_quiet():
        return spark.createDataFrame(table)


def prefixed(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    return frame.rename(columns={c: f"{prefix}{c}" for c in SHARED_COLUMNS if c in frame})


def cell_degrees(commutes_km: np.ndarray) -> float:
    """Grid cell size in degrees: wide as the `CELL_QUANTILE` commute, at least the longest
    commute / `MAX_CELLS_ACROSS` (bounding the cells any one candidate is exploded into), and
    rounded up so that 360 degrees are a whole number of cells (wrapping at the antimeridian)."""
    if len(commutes_km) == 0:
        return 1.0
    km = max(float(np.quantile(commutes_km, CELL_QUANTILE)), float(np.max(commutes_km)) / MAX_CELLS_ACROSS)
    degrees = min(max(km / KM_PER_DEGREE, 1e-3), 180.0)
    return 360.0 / math.floor(360.0 / degrees)


def candidate_frame(
    spark: SparkSession, candidates: pd.DataFrame, inputs: list[str], cell: float, partitions: int
) -> DataFrame:
    """Consenting, active candidates, one row per grid cell their commute can reach."""
    from pyspark.sql import functions as F

    frame = prefixed(candidates, "candidate_")
    needs = [c for c in frame.columns if c.startswith("needs_")]
    keep = list(dict.fromkeys([*inputs, *GENERATION_COLUMNS, *needs]))
    frame = frame[keep].assign(_c_pos=np.arange(len(frame), dtype=np.int64))
    n_lon = round(360.0 / cell)
    lat, lon = F.col("candidate_lat"), F.col("candidate_lon")
    reach = F.col("max_commute_km") / F.lit(EARTH_RADIUS_KM) + F.lit(EDGE)  # radians
    dlat = F.degrees(reach)
    polar = (lat + dlat >= 90.0) | (lat - dlat <= -90.0) | (reach >= math.pi / 2)
    stretch = F.sin(reach) / F.cos(F.radians(lat))
    dlon = F.degrees(F.asin(F.least(stretch, F.lit(1.0))))
    lon_lo = F.floor((lon - dlon + 180.0) / cell)
    lon_hi = F.floor((lon + dlon + 180.0) / cell)
    every = polar | (stretch >= 1.0) | (lon_hi - lon_lo + 1 >= n_lon)
    lon_cells = F.when(every, F.sequence(F.lit(0).cast("long"), F.lit(n_lon - 1).cast("long"))).otherwise(
        F.transform(F.sequence(lon_lo, lon_hi), lambda x: F.pmod(x, F.lit(n_lon).cast("long")))
    )
    lat_cells = F.sequence(
        F.floor(F.greatest(lat - dlat, F.lit(-90.0)) / cell), F.floor(F.least(lat + dlat, F.lit(90.0)) / cell)
    )
    return (
        to_spark(spark, frame)
        .where(F.col("consent") & F.col("candidate_active"))
        .repartition(partitions, "_c_pos")
        .withColumn("_lat_cell", F.explode(lat_cells))
        .withColumn("_lon_cell", F.explode(lon_cells))
        .withColumn("_cell", F.col("_lat_cell") * n_lon + F.col("_lon_cell"))
        .drop("_lat_cell", "_lon_cell")
    )


def workplace_frame(spark: SparkSession, workplaces: pd.DataFrame, inputs: list[str], cell: float) -> DataFrame:
    """Open workplaces (active, a free slot), each with its grid cell."""
    from pyspark.sql import functions as F

    frame = prefixed(workplaces, "workplace_")
    offers = [c for c in frame.columns if c.startswith("offers_")]
    keep = list(dict.fromkeys([*inputs, "workplace_lat", "workplace_lon", "workplace_active", "slots", *offers]))
    frame = frame[keep].assign(_w_pos=np.arange(len(frame), dtype=np.int64))
    n_lon = round(360.0 / cell)
    lat_cell = F.floor(F.col("workplace_lat") / cell)
    lon_cell = F.pmod(F.floor((F.col("workplace_lon") + 180.0) / cell), F.lit(n_lon).cast("long"))
    return (
        to_spark(spark, frame)
        .where(F.col("workplace_active") & (F.col("slots") > 0))
        .withColumn("_cell", lat_cell * n_lon + lon_cell)
    )


def generate_pairs(
    candidates: DataFrame, workplaces: DataFrame, supports: tuple[str, ...], exclude_unmet_required: bool
) -> DataFrame:
    """Every eligible pair: same cell, within the candidate's commute (the ball tree's haversine
    test, term for term), and with `exclude_unmet_required` every required support of `supports`
    (those only a workplace can give) offered."""
    from pyspark.sql import functions as F

    pairs = candidates.join(F.broadcast(workplaces), on="_cell")
    c_lat, w_lat = F.radians(F.col("candidate_lat")), F.radians(F.col("workplace_lat"))
    s0 = F.sin(0.5 * (c_lat - w_lat))
    s1 = F.sin(0.5 * (F.radians(F.col("candidate_lon")) - F.radians(F.col("workplace_lon"))))
    reach = F.col("max_commute_km") / F.lit(EARTH_RADIUS_KM)
    half = F.sin(0.5 * reach)
    # sin^2(r/2) stops growing at r = pi (half the globe): any longer commute reaches everywhere
    keep = (s0 * s0 + F.cos(c_lat) * F.cos(w_lat) * s1 * s1 <= half * half) | (reach >= math.pi)
    if exclude_unmet_required:
        for support in supports:
            required = F.col(f"needs_{support}").cast("double") >= float(REQUIRED_NEED)
            offered = F.col(f"offers_{support}").cast("double") >= OFFERED
            keep = keep & ~(required & ~offered)
    return pairs.where(keep)
