"""Whole-caseload scoring on Spark (`jobmatch score --engine spark`): the same registered model,
the same candidate-generation rules and the same shortlist frame as `serving.batch.score_caseload`.

The rooms: `session` starts Spark (pyspark and Java checked, settings for `local[N]` and for
clusters); `pairs` generates the candidate-workplace pairs as a grid join; `engine` scores them
with the registered model and explains the top-k (`score_caseload_spark`).

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
   `matching.candidates`' rule (no required need, `features.support.REQUIRED_NEED`, that the
   workplace does not offer).
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
