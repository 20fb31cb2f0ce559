"""Whole-caseload scoring on Spark (`jobmatch score --engine spark`): the same registered model,
the same candidate-generation rules, the same features and the same shortlist frame as
`serving.batch.score_caseload`, with results identical to it (pairs, scores, ranks, ties and
reasons).

The rooms: `session` starts Spark (pyspark and Java checked, settings for `local[N]` and for
clusters); `pairs` generates the candidate-workplace pairs as a broadcast grid join over
positions; `worker` is what runs in Spark's Python workers (the model, loaded once per worker,
scoring Arrow batches of positions); `engine` drives a run and explains the top-k
(`score_caseload_spark`).

How it runs
-----------
1. The driver resolves the model like `serving.loading.load_ranker` (name, version, the `Ranker`)
   and pins the version: a `models:/NAME@ALIAS` URI is scored as `models:/NAME/VERSION`, so the
   scores, the reasons and `model_version` come from one version even if the alias moves.
2. The dataset (already loaded and validated on the driver) becomes the local engine's own
   tables: `CandidateTable` and `WorkplacePool` (with the employer history up to now), whose
   per-candidate and per-workplace arrays the features read. These arrays and the model's files
   (downloaded from the pinned URI) are broadcast to the workers once per run; nothing is
   validated again per pair.
3. Candidate generation is a Spark join, never a cross join: the globe is cut into grid cells of
   `cell` degrees (a commute of the 90th percentile, at least 1/32 of the longest, rounded so
   that 360 is a whole number of cells); each open workplace (active, slots > 0) falls in one
   cell, each consenting, active candidate is exploded into every cell its commute's bounding box
   touches (exact on the sphere, across the antimeridian and near the poles), the workplaces
   (position, place, offered supports as a bit mask) are broadcast and joined on the cell, and
   the pairs are kept by the haversine test of the local engine's ball tree
   (`sin^2(d/2) <= sin^2(max_commute_km / R / 2)`, R = `features.pairs.EARTH_RADIUS_KM`) and,
   with `exclude_unmet_required`, by `matching.candidates`' rule (no required need,
   `features.support.REQUIRED_NEED`, that only a workplace can give and the workplace does not
   offer), as bit masks. A pair leaves the join as two integers: its candidate's and its
   workplace's positions.
4. `mapInPandas` hands the pairs to the Python workers in Arrow batches. Each worker loads the
   registered model with `mlflow.pyfunc.load_model` on first use and keeps it for every later
   batch, task and run of that model; it gathers the batches into blocks of about 200,000 pairs,
   computes their features from the positions (`PairFrame`, the local engine's code), scores
   them with the model's ranker, and sends back only each candidate's top-k pairs of the block
   with the block's pair count.
5. The driver merges the blocks into the exact top-k (a candidate's best pairs are among the
   best of every block it appears in), ordered by score and, on a tie, by the workplace's row in
   the dataset (the local engine's tie-break), and computes the reasons of those rows with
   exactly the local engine's code (`serving.batch.batch_reasons`: `PairFrame` features,
   `Ranker.path_contributions`, `matching.explain.top_reasons`). That is candidates x k rows (a
   million for 100,000 candidates), cheap next to scoring every pair.

On a cluster
------------
Pass `master` (`spark://host:7077`, `yarn`, `k8s://...`) or a session of your own. Then:
- the driver (where `jobmatch score` runs) needs Java 17+, pyspark 4, the MLflow tracking server
  (or database) and the dataset folder: the data are read and validated there, and the
  candidate and workplace arrays are broadcast to the executors (tens of MB for 100,000
  candidates; the pairs never pass through the driver, only their top-k);
- the executors need a Python with this project installed (`pip install 'jobmatch[spark]'`, or a
  packed venv through `spark.archives` and `spark.pyspark.python`): the registered model is
  "models from code" (`matching/servable.py`) and imports `matching.model`, and the workers
  import `serving.spark.worker`;
- the model's artifacts do not need to be reachable from the executors: the driver downloads
  them and broadcasts them with the job, and each worker loads them with its own packages (keep
  them at the versions the model was logged with).

Speed
-----
The Spark engine does per pair what the local engine does: features from the arrays and one
booster call per block; the JVM joins and filters small rows of numbers and moves two integer
columns per pair to Python. `bench/bench_spark.py` compares the two on the same data and model.
"""
