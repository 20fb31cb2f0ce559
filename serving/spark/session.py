"""Starting Spark for scoring: pyspark and Java checked with a clear message when missing, a
session with sensible settings for `local[N]` and for clusters, and a quiet start."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MIN_JAVA = 17
MIN_PYSPARK = (4, 0)
ARROW_BATCH_ROWS = 20_000
INSTALL_HINT = "pip install 'jobmatch[spark]'"


class SparkNotInstalledError(ImportError, ValueError):
    """pyspark is missing (or too old). A ValueError too, so the command line reports it as bad input."""


class JavaNotFoundError(OSError):
    """No usable Java for Spark's driver. An OSError, so the command line reports it as bad input."""


class SparkStartError(OSError):
    """Spark did not start (a bad master URL, an unreachable cluster, a JVM that exits)."""


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
    `ARROW_BATCH_ROWS` rows (pairs into the Python workers), no console progress bar, logs at
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
