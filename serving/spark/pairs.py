"""Candidate generation on Spark: a broadcast grid join over positions, never a cross join.

The globe is cut into grid cells of `cell` degrees; each open workplace falls in one cell, each
consenting, active candidate is exploded into every cell its commute's bounding box touches
(exact on the sphere, across the antimeridian and near the poles), the workplaces are broadcast
and joined on the cell, and the pairs are kept by the local engine's haversine test and
required-support rule (`matching.candidates`), so the pairs are exactly the local engine's.

Only what generation needs goes into Spark: a candidate's position, home, commute and the
supports it requires (bit masks), a workplace's position, place and the supports it offers. The
angles the distance test needs per point (radians, cosine of the latitude, the commute's
`sin^2(r/2)`) are computed once per point on the driver with numpy, as the ball tree gets them,
so the join computes two sines per pair; cheaper tests go first (the supports, then the latitude
band no pair within reach leaves). The pairs leave the join as two integer columns (`_c_pos`,
`_w_pos`): positions into the candidate and workplace tables the Python workers hold
(`serving.spark.worker`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from features.pairs import EARTH_RADIUS_KM
from features.support import OFFERED, REQUIRED_NEED
from serving.spark.session import pandas3_quiet

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180.0
CELL_QUANTILE = 0.9  # cells as wide as this quantile of the commutes...
MAX_CELLS_ACROSS = 32  # ...but no candidate's commute is more than this many cells across
EDGE = 1e-9  # radians added to each bounding box, so rounding never loses a pair on its edge
BITS = 62  # supports per bit-mask column (a non-negative long)


def support_masks(
    needs: np.ndarray, offers: np.ndarray, only: np.ndarray, exclude_unmet_required: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The required-support rule as bit masks: `(required, offered)`, one column of `BITS`
    supports per word, so a pair is kept when `required & ~offered == 0` in every word.

    `required[c]` has bit j set when candidate c requires support j (`REQUIRED_NEED`) and only a
    workplace can give it (`only[j]`; nothing when `exclude_unmet_required` is off);
    `offered[w]` has bit j set when workplace w offers it (`OFFERED`): term for term
    `matching.candidates.meets_required_supports`.
    """
    words = max(1, math.ceil(needs.shape[1] / BITS))
    required = np.zeros((len(needs), words), dtype=np.int64)
    offered = np.zeros((len(offers), words), dtype=np.int64)
    wanted = (needs >= REQUIRED_NEED) & only[None, :] if exclude_unmet_required else np.zeros_like(needs, bool)
    given = offers >= OFFERED
    for j in range(needs.shape[1]):
        word, bit = divmod(j, BITS)
        required[:, word] |= wanted[:, j].astype(np.int64) << bit
        offered[:, word] |= given[:, j].astype(np.int64) << bit
    return required, offered


def to_spark(spark: SparkSession, frame: pd.DataFrame) -> DataFrame:
    """A pandas table as a Spark DataFrame through Arrow."""
    import pyarrow as pa

    with pandas3_quiet():
        return spark.createDataFrame(pa.Table.from_pandas(frame, preserve_index=False))


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
    spark: SparkSession,
    candidates: dict[str, np.ndarray],
    rows: np.ndarray,
    required: np.ndarray,
    cell: float,
    partitions: int,
) -> DataFrame:
    """The candidates at positions `rows` (consenting, active), one row per grid cell their
    commute can reach: `_c_pos`, home, commute, `_required_*` masks and `_cell`."""
    from pyspark.sql import functions as F

    rows = np.asarray(rows, dtype=np.int64)
    reach = candidates["max_commute_km"][rows] / EARTH_RADIUS_KM
    frame = pd.DataFrame(
        {
            "_c_pos": rows,
            "c_lat": candidates["lat"][rows],
            "c_lon": candidates["lon"][rows],
            "max_commute_km": candidates["max_commute_km"][rows],
            **_angles("c", candidates["lat"][rows], candidates["lon"][rows]),
            "c_reach": reach,
            "c_half2": np.sin(0.5 * reach) ** 2,  # the ball tree's reduced radius
            **{f"_required_{i}": required[rows, i] for i in range(required.shape[1])},
        }
    )
    n_lon = round(360.0 / cell)
    lat, lon = F.col("c_lat"), F.col("c_lon")
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
        .repartition(partitions, "_c_pos")
        .withColumn("_lat_cell", F.explode(lat_cells))
        .withColumn("_lon_cell", F.explode(lon_cells))
        .withColumn("_cell", F.col("_lat_cell") * n_lon + F.col("_lon_cell"))
        .drop("_lat_cell", "_lon_cell")
    )


def workplace_frame(
    spark: SparkSession, workplaces: dict[str, np.ndarray], rows: np.ndarray, offered: np.ndarray, cell: float
) -> DataFrame:
    """The workplaces at positions `rows` (open: active, a free slot), each with its grid cell:
    `_w_pos`, place, `_offered_*` masks and `_cell`."""
    from pyspark.sql import functions as F

    rows = np.asarray(rows, dtype=np.int64)
    frame = pd.DataFrame(
        {
            "_w_pos": rows,
            "w_lat": workplaces["lat"][rows],
            "w_lon": workplaces["lon"][rows],
            **_angles("w", workplaces["lat"][rows], workplaces["lon"][rows]),
            **{f"_offered_{i}": offered[rows, i] for i in range(offered.shape[1])},
        }
    )
    n_lon = round(360.0 / cell)
    lat_cell = F.floor(F.col("w_lat") / cell)
    lon_cell = F.pmod(F.floor((F.col("w_lon") + 180.0) / cell), F.lit(n_lon).cast("long"))
    return to_spark(spark, frame).withColumn("_cell", lat_cell * n_lon + lon_cell)


def _angles(side: str, lat: np.ndarray, lon: np.ndarray) -> dict[str, np.ndarray]:
    """Per point, as `matching.candidates.WorkplacePool` gives them to the ball tree: latitude and
    longitude in radians (`np.radians`), and the cosine of the latitude."""
    phi, lam = np.radians(lat), np.radians(lon)
    return {f"{side}_phi": phi, f"{side}_lam": lam, f"{side}_cos": np.cos(phi)}


def generate_pairs(candidates: DataFrame, workplaces: DataFrame) -> DataFrame:
    """Every eligible pair as `(_c_pos, _w_pos)`: same cell, every required support the workplace
    must give offered (`support_masks`), and within the candidate's commute by the ball tree's
    haversine test, term for term (`sin^2(dphi/2) + cos(phi1) cos(phi2) sin^2(dlam/2) <=
    sin^2(r/2)`), after a latitude band that test implies (`|dphi| <= r`)."""
    from pyspark.sql import functions as F

    pairs = candidates.join(F.broadcast(workplaces), on="_cell")
    words = [c.removeprefix("_required_") for c in candidates.columns if c.startswith("_required_")]
    keep: Column | None = None
    for word in words:
        missing = F.col(f"_required_{word}").bitwiseAND(F.bitwise_not(F.col(f"_offered_{word}"))) == 0
        keep = missing if keep is None else keep & missing
    dphi = F.col("c_phi") - F.col("w_phi")
    band = F.abs(dphi) <= F.col("c_reach") + F.lit(EDGE)
    s0 = F.sin(0.5 * dphi)
    s1 = F.sin(0.5 * (F.col("c_lam") - F.col("w_lam")))
    # sin^2(r/2) stops growing at r = pi (half the globe): any longer commute reaches everywhere
    near = (s0 * s0 + F.col("c_cos") * F.col("w_cos") * s1 * s1 <= F.col("c_half2")) | (F.col("c_reach") >= math.pi)
    keep = band & near if keep is None else keep & band & near
    return pairs.where(keep).select("_c_pos", "_w_pos")
