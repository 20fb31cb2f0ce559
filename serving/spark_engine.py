"""Whole-caseload scoring on Spark (`jobmatch score --engine spark`): the same registered model,
the same candidate-generation rules and the same shortlist frame as `serving.batch.score_caseload`.

How it runs
-----------
1. The driver resolves the model like `serving.loading.load_ranker` (name, version, the `Ranker`)
   and pins the version: a `models:/NAME@ALIAS` URI is scored as `models:/NAME/VERSION`, so the
   scores, the reasons and `model_version` come from one version even if the alias moves.
2. The dataset (already loaded and validated on the driver) goes to Spark as two tables, with
   the contract columns that make the pyfunc's pair records (`matching.model.pair_records`:
   `lat`/`lon`/`active` prefixed `candidate_`/`workplace_`; `preferred_occupations` stays a list,
   an `array<string>` column, which reaches the pyfunc as a list-like cell).
3. Candidate generation is a Spark join, never a cross join: the globe is cut into grid cells of
   `cell` degrees (a commute of the 90th percentile, at least 1/32 of the longest, rounded so
   that 360 is a whole number of cells); each open workplace (active, slots > 0) falls in one
   cell, each consenting, active candidate is exploded into every cell its commute's bounding box
   touches (exact on the sphere, across the antimeridian and near the poles), the workplaces are
   broadcast and joined on the cell, and the pairs are kept by the haversine test of the local
   engine's ball tree (`sin^2(d/2) <= sin^2(max_commute_km / R / 2)`, R =
   `features.pairs.EARTH_RADIUS_KM`) and, with `exclude_unmet_required`, by
   `matching.candidates`' rule (no need of level >= 2 that the workplace does not offer).
4. Scores come from `mlflow.pyfunc.spark_udf(..., result_type="double", env_manager="local")`
   over the pair records: the registered pyfunc itself, in the executors' Python.
5. Top-k with a window per candidate: `row_number()` ordered by score descending, then by the
   workplace's row in the dataset (the local engine's tie-break); a `count()` over the same
   window gives the number of pairs without a second pass.
6. Reasons are computed on the driver for the top-k rows only: their positions come back from
   Spark, and the driver runs exactly the local engine's code on them (`PairFrame` features,
   `Ranker.path_contributions`, `matching.explain.top_reasons`), so the reasons are the local
   engine's by construction. That is candidates x k rows (a million for 100,000 candidates),
   cheap next to scoring every pair, and needs no second model inside the executors.

On a cluster
------------
Pass `master` (`spark://host:7077`, `yarn`, `k8s://...`) or a session of your own. Then:
- the driver (where `jobmatch score` runs) needs Java 17+, pyspark 4, the MLflow tracking server
  (or database) and the dataset folder: the data are read and validated there, then sent to the
  executors with the job (the candidate and workplace tables, not the pairs, pass through it);
- the executors need a Python with this project installed (`pip install 'jobmatch[spark]'`, or a
  packed venv through `spark.archives` and `spark.pyspark.python`): the registered model is
  "models from code" (`matching/servable.py`) and imports `matching.model`;
- the model's artifacts do not need to be reachable from the executors: `spark_udf` downloads
  them on the driver and ships them with the job (`env_manager="local"`: the executors' own
  packages are used, so keep them at the versions the model was logged with);
- only the top-k rows (positions and scores) come back to the driver, which also writes the file.

Speed
-----
Spark pays per pair for what the local engine does per table: every pair record (73 columns)
is built in the JVM, sent to Python through Arrow, validated and split again by the pyfunc
before its features are computed. On 2 cores (`bench/bench_spark.py`, 1.66 million pairs) that
is about 12,000 pairs/s against about 265,000 for the local engine; sending the records alone
(a UDF that returns zeros) takes ~40% of the Spark run. The engine is for caseloads that need
more machines than one, not for a laptop.
"""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from features.pairs import EARTH_RADIUS_KM, workplace_arrays
from matching.candidates import CandidateTable, eligible_candidates, enrich_workplaces
from matching.datasets import Dataset
from matching.model import SHARED_COLUMNS, pair_records
from matching.records import load_catalogue
from matching.tracking import configure_tracking
from serving.batch import COLUMNS, REASON_COLUMNS, batch_reasons
from serving.loading import MODELS_URI, LoadedModel, load_ranker

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

MIN_JAVA = 17
MIN_PYSPARK = (4, 0)
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180.0
CELL_QUANTILE = 0.9  # cells as wide as this quantile of the commutes...
MAX_CELLS_ACROSS = 32  # ...but no candidate's commute is more than this many cells across
EDGE = 1e-9  # radians added to each bounding box, so rounding never loses a pair on its edge
ARROW_BATCH_ROWS = 20_000
INSTALL_HINT = "pip install 'jobmatch[spark]'"


class SparkNotInstalledError(ImportError, ValueError):
    """pyspark is missing (or too old). A ValueError too, so the command line reports it as bad input."""


class JavaNotFoundError(OSError):
    """No usable Java for Spark's driver. An OSError, so the command line reports it as bad input."""


class SparkStartError(OSError):
    """Spark did not start (a bad master URL, an unreachable cluster, a JVM that exits)."""


# --------------------------------------------------------------------------------------------
# session


def require_pyspark() -> None:
    """Raise `SparkNotInstalledError` unless pyspark >= 4 can be imported."""
    try:
        import pyspark
    except ImportError as error:
        raise SparkNotInstalledError(
            f"the Spark engine needs pyspark, which is not installed: {INSTALL_HINT} (and Java {MIN_JAVA}+)"
        ) from error
    found = tuple(int(p) for p in re.findall(r"\d+", pyspark.__version__)[:2])
    if found < MIN_PYSPARK:
        raise SparkNotInstalledError(
            f"the Spark engine needs pyspark >= {'.'.join(map(str, MIN_PYSPARK))}, found {pyspark.__version__}: "
            f"{INSTALL_HINT}"
        )


def find_java() -> str:
    """The `java` Spark will start (JAVA_HOME first, then PATH), checked to be Java 17 or newer.

    Raises:
        JavaNotFoundError: naming what is missing and how to fix it.
    """
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    where = f"JAVA_HOME={home}" if home else "PATH"
    if not java or not os.path.exists(java):
        raise JavaNotFoundError(
            f"the Spark engine needs Java {MIN_JAVA} or newer, and none was found on {where}: install a JDK or JRE "
            f"{MIN_JAVA}+ (e.g. `apt-get install openjdk-{MIN_JAVA}-jre-headless`) and put it on PATH or set "
            "JAVA_HOME, or score with --engine local"
        )
    try:
        shown = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as error:
        raise JavaNotFoundError(f"cannot run {java} -version ({error}); Spark needs Java {MIN_JAVA}+") from error
    match = re.search(r'version "(\d+)(?:\.(\d+))?', shown.stderr + shown.stdout)
    if match:
        major = int(match[1]) if match[1] != "1" else int(match[2] or 0)  # "1.8.0" is Java 8
        if major < MIN_JAVA:
            raise JavaNotFoundError(
                f"{java} is Java {major}; Spark 4 needs Java {MIN_JAVA} or newer (set JAVA_HOME to one)"
            )
    return java


def local_cores(master: str) -> int | None:
    """The worker threads of a `local`, `local[N]`, `local[*]` or `local[N,F]` master; None otherwise."""
    if master == "local":
        return 1
    match = re.fullmatch(r"local\[(\d+|\*)(?:,\d+)?\]", master)
    if not match:
        return None
    return (os.cpu_count() or 1) if match[1] == "*" else int(match[1])


def build_spark_session(
    master: str = "local[2]",
    app_name: str = "jobmatch-score",
    driver_memory: str = "4g",
    shuffle_partitions: int | None = None,
    conf: dict[str, str] | None = None,
    log_level: str = "ERROR",
) -> SparkSession:
    """A Spark session for scoring, with sensible settings for `local[N]` and for clusters.

    Arrow on (no silent fallback to row-by-row conversion), Arrow batches of
    `ARROW_BATCH_ROWS` pair records into the model, no console progress bar, logs at
    `log_level`. On a local master also: shuffle partitions 2 x the cores (not 200), no web UI,
    the driver on 127.0.0.1, this interpreter as the workers' Python, and a quiet JVM start-up.

    Args:
        master: `local[N]`, `spark://host:7077`, `yarn`, `k8s://...`.
        app_name: the application's name.
        driver_memory: the driver JVM's heap (only when this call starts the JVM).
        shuffle_partitions: `spark.sql.shuffle.partitions`; default 2 x cores locally, Spark's own otherwise.
        conf: further settings, applied last.
        log_level: the JVM's log level once started.

    Raises:
        SparkNotInstalledError: when pyspark is missing.
        JavaNotFoundError: when no Java 17+ is found.
        SparkStartError: when Spark does not start.
    """
    require_pyspark()
    find_java()
    from pyspark.sql import SparkSession

    cores = local_cores(master)
    settings = {
        "spark.driver.memory": driver_memory,
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(ARROW_BATCH_ROWS),
        "spark.ui.showConsoleProgress": "false",
        # the workers' side of `pandas3_quiet`
        "spark.executorEnv.PYTHONWARNINGS": (
            "ignore:PySpark does not yet fully support pandas:FutureWarning,"
            "ignore:The copy keyword is deprecated:DeprecationWarning"
        ),
    }
    if cores is not None:
        settings.update(
            {
                "spark.sql.shuffle.partitions": str(shuffle_partitions or max(2, 2 * cores)),
                "spark.ui.enabled": "false",
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
                "spark.pyspark.python": sys.executable,
                "spark.pyspark.driver.python": sys.executable,
                # on a cluster the site's own spark-defaults.conf keeps the driver's options
                "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={log4j_config()}",
            }
        )
    elif shuffle_partitions:
        settings["spark.sql.shuffle.partitions"] = str(shuffle_partitions)
    settings.update(conf or {})
    if cores is not None:
        # local workers start with PYSPARK_PYTHON (else whatever `python3` is on the PATH, which
        # need not have this project's packages); the conf keys above serve clusters
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        with pandas3_quiet():
            spark = builder.getOrCreate()
    except Exception as error:  # the JVM or the context did not start: report why in one line
        raise SparkStartError(
            f"Spark did not start with master {master!r} (Spark's log above says why; for a cluster, check that "
            f"the master is reachable from this machine): {one_line(error)}"
        ) from error
    spark.sparkContext.setLogLevel(log_level)
    return spark


def one_line(error: BaseException) -> str:
    """The first line of an error, the Java exception's own for a py4j error."""
    java = getattr(error, "java_exception", None)
    text = str(error).strip()
    if java is not None:
        try:
            text = str(java.toString()).strip()
        except Exception:  # the gateway may be gone; fall back to the Python text
            pass
    return text.splitlines()[0] if text else type(error).__name__


# Spark starts its shells at WARN and says so unless the root logger already is; the two
# start-up warnings that follow on most machines (loopback host name, no native Hadoop library)
# are kept out too. `build_spark_session` sets the asked level once the JVM is up.
LOG4J_CONFIG = """rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.utils.name = org.apache.spark.util.Utils
logger.utils.level = error
logger.hadoop.name = org.apache.hadoop.util.NativeCodeLoader
logger.hadoop.level = error
"""


def log4j_config() -> str:
    """The URI of a log4j2 file for a quiet start (written once to the temporary folder)."""
    path = Path(tempfile.gettempdir()) / "jobmatch-spark-log4j2.properties"
    text = LOG4J_CONFIG
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return path.as_uri()


@contextmanager
def pandas3_quiet() -> Iterator[None]:
    """Within the block, hide the two warnings pyspark 4 gives with pandas 3 at every conversion
    ("does not yet fully support pandas >= 3.0.0"; `astype(copy=False)` deprecated): the engine
    is tested with pandas 3 (tests/e2e/test_spark_engine.py). Other warnings pass."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"PySpark does not yet fully support pandas", category=FutureWarning)
        warnings.filterwarnings("ignore", message=r"The copy keyword is deprecated", category=DeprecationWarning)
        yield


# --------------------------------------------------------------------------------------------
# scoring


def score_caseload_spark(
    dataset: Dataset,
    model_uri: str,
    tracking_uri: str,
    top_k: int = 10,
    exclude_unmet_required: bool = True,
    master: str = "local[2]",
    progress: Callable[[str], None] | None = None,
    spark: SparkSession | None = None,
    partitions: int | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Shortlists for the whole caseload, scored on Spark; the frame `serving.batch.score_caseload` gives.

    Args:
        dataset: the validated dataset (read on the driver).
        model_uri: `models:/NAME@ALIAS`, `models:/NAME/VERSION`, `runs:/...` or a path.
        tracking_uri: the MLflow store holding the registry.
        top_k: workplaces per candidate.
        exclude_unmet_required: as in candidate generation.
        master: the Spark master, used when `spark` is not given (the session is then stopped at the end).
        progress: called with a line at each step and every few seconds while Spark works.
        spark: a session to reuse (left running).
        partitions: how many partitions the candidates are spread over (default 2 x the cores).

    Returns:
        The shortlists (candidate_id, rank, workplace_id, score, reason_1..3, model_version) and
        run figures (candidates, pairs, seconds, pairs_per_second). `seconds` runs from handing
        the data to Spark to the explained frame: starting Spark and loading the model on the
        driver are not in it.

    Raises:
        SparkNotInstalledError: pyspark is missing.
        JavaNotFoundError: Java is missing.
        SparkStartError: Spark did not start.
        ModelLoadError: the model cannot be loaded.
    """
    if top_k < 1:
        raise ValueError("top_k must be at least 1")
    say = progress or (lambda _message: None)
    require_pyspark()
    model = load_ranker(model_uri, tracking_uri)
    say(f"model {model.name} version {model.version}")
    own = spark is None
    if spark is None:
        say(f"starting Spark ({master})")
        spark = build_spark_session(master)
    try:
        return _score(spark, dataset, model, tracking_uri, top_k, exclude_unmet_required, partitions, say)
    finally:
        if own:
            spark.stop()


def pinned_uri(model: LoadedModel) -> str:
    """`models:/NAME/VERSION` for a registered model (an alias may move while Spark runs), else the URI."""
    if MODELS_URI.match(model.uri) and model.version:
        return f"models:/{model.name}/{model.version}"
    return model.uri


def _score(
    spark: SparkSession,
    dataset: Dataset,
    model: LoadedModel,
    tracking_uri: str,
    top_k: int,
    exclude_unmet_required: bool,
    partitions: int | None,
    say: Callable[[str], None],
) -> tuple[pd.DataFrame, dict[str, float]]:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    catalogue = load_catalogue()
    candidates = CandidateTable.build(dataset.candidates, catalogue)
    raw_workplaces = dataset.workplaces.reset_index(drop=True)
    workplaces = enrich_workplaces(raw_workplaces, catalogue)
    w_arrays = workplace_arrays(workplaces, catalogue.vocabulary)
    rows = eligible_candidates(candidates.frame)
    n_open = int(np.sum(raw_workplaces["active"].to_numpy(dtype=bool) & (w_arrays["slots"] > 0)))
    started = time.perf_counter()
    configure_tracking(tracking_uri)
    udf = model_udf(spark, pinned_uri(model))
    left, right = record_sides(candidates.frame, raw_workplaces)
    inputs = model_inputs(udf, left + right)
    cell = cell_degrees(candidates.arrays["max_commute_km"][rows])
    partitions = partitions or max(2, 2 * spark.sparkContext.defaultParallelism)
    say(
        f"{len(rows)} active, consenting candidates against {n_open} open workplaces; grid cells of "
        f"{cell:.3f} degrees ({cell * KM_PER_DEGREE:.0f} km north-south), {partitions} partitions"
    )
    if len(rows) and n_open:
        c_frame = candidate_frame(spark, candidates.frame, [c for c in left if c in inputs], cell, partitions)
        w_frame = workplace_frame(spark, raw_workplaces, [c for c in right if c in inputs], cell)
        pairs = generate_pairs(c_frame, w_frame, catalogue.vocabulary.supports, exclude_unmet_required)
        scored = pairs.select("_c_pos", "_w_pos", udf(F.struct(*[F.col(c) for c in inputs])).alias("score"))
        best = Window.partitionBy("_c_pos").orderBy(F.desc("score"), F.asc("_w_pos"))
        chosen = scored.select(
            "_c_pos",
            "_w_pos",
            "score",
            F.row_number().over(best).alias("rank"),
            F.count(F.lit(1)).over(Window.partitionBy("_c_pos")).alias("_pairs"),
        ).where(F.col("rank") <= top_k)
        say("generating and scoring pairs on Spark")
        with _reporting(spark, say), pandas3_quiet():
            top = chosen.toPandas()
    else:
        top = pd.DataFrame({name: np.zeros(0, np.int64) for name in ("_c_pos", "_w_pos", "rank", "_pairs")})
        top["score"] = np.zeros(0)
    c_pos, rank = top["_c_pos"].to_numpy(np.int64), top["rank"].to_numpy(np.int64)
    order = np.lexsort((rank, c_pos))
    c_pos, rank = c_pos[order], rank[order]
    w_pos = top["_w_pos"].to_numpy(np.int64)[order]
    score = top["score"].to_numpy(np.float64)[order]
    n_pairs = int(top["_pairs"].to_numpy(np.int64)[order][rank == 1].sum())
    say(f"scored {n_pairs:,} pairs; explaining {len(c_pos):,} suggestions on the driver")
    frame = pd.DataFrame(
        {
            "candidate_id": candidates.frame["candidate_id"].to_numpy()[c_pos],
            "rank": rank.astype(np.int32),
            "workplace_id": workplaces["workplace_id"].to_numpy()[w_pos],
            "score": score,
        }
    )
    for column, values in zip(
        REASON_COLUMNS,
        batch_reasons(model.ranker, candidates.arrays, w_arrays, load_catalogue().vocabulary, c_pos, w_pos),
        strict=True,
    ):
        frame[column] = values
    frame["model_version"] = model.version
    seconds = time.perf_counter() - started
    figures = {
        "candidates": float(len(rows)),
        "pairs": float(n_pairs),
        "seconds": seconds,
        "pairs_per_second": n_pairs / max(seconds, 1e-9),
    }
    return frame[COLUMNS], figures


def model_udf(spark: SparkSession, uri: str) -> Any:
    """The registered pyfunc as a Spark UDF returning the score (a double per pair record)."""
    import mlflow.pyfunc

    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.ERROR)  # its advice on env_manager="local" is answered in this module's docstring
    try:
        with pandas3_quiet():
            return mlflow.pyfunc.spark_udf(spark, uri, result_type="double", env_manager="local")
    finally:
        logger.setLevel(level)


def model_inputs(udf: Any, columns: list[str]) -> list[str]:
    """The pair-record columns the model takes: its signature's, or every one when it has none.

    Raises:
        ValueError: when the signature requires a column the pair records lack.
    """
    metadata = getattr(udf, "metadata", None)
    schema = metadata.get_input_schema() if metadata is not None else None
    if schema is None or not schema.has_input_names():
        return columns
    missing = [name for name in schema.required_input_names() if name not in columns]
    if missing:
        raise ValueError(f"the model takes pair-record columns this dataset does not have: {', '.join(missing)}")
    return [name for name in schema.input_names() if name in columns]


def record_sides(candidates: pd.DataFrame, workplaces: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The pair-record columns from each side, named and chosen as `pair_records` does."""
    empty = np.zeros(0, dtype=np.int64)
    columns = list(pair_records(candidates, workplaces, empty, empty).columns)
    left = [f"candidate_{c}" if c in SHARED_COLUMNS else str(c) for c in candidates.columns]
    return left, [c for c in columns if c not in left]


GENERATION_COLUMNS = ("candidate_lat", "candidate_lon", "max_commute_km", "consent", "candidate_active")


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
    test, term for term), and with `exclude_unmet_required` every required support offered."""
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
            required = F.col(f"needs_{support}").cast("double") >= 2.0
            offered = F.col(f"offers_{support}").cast("double") >= 0.5
            keep = keep & ~(required & ~offered)
    return pairs.where(keep)


@contextmanager
def _reporting(spark: SparkSession, say: Callable[[str], None], every: float = 15.0) -> Iterator[None]:
    """While the block runs, report the running Spark stages' tasks every `every` seconds."""
    tracker = spark.sparkContext.statusTracker()
    stop = threading.Event()

    def report() -> None:
        while not stop.wait(every):
            running = []
            for stage in tracker.getActiveStageIds():
                info = tracker.getStageInfo(stage)
                if info is not None:
                    running.append(f"stage {stage} {info.numCompletedTasks}/{info.numTasks} tasks")
            if running:
                say("spark: " + ", ".join(running))

    thread = threading.Thread(target=report, name="jobmatch-spark-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
