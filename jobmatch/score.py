"""Batch scoring (`jobmatch score`): shortlists for every active, consenting candidate, on the
local engine (optionally allocated under the workplaces' capacity) or on Spark; refused while
the model is switched off in the store. Ends with where the time went (`matching.timing`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobmatch.common import positive_float, positive_int, say

if TYPE_CHECKING:
    from jobmatch.common import Subcommands


def cmd_score(args: argparse.Namespace) -> int:
    from matching.timing import Stages

    stages = Stages()
    with stages.time("importing"):
        from matching.allocation import allocation_report
        from matching.datasets import load_dataset
        from matching.settings import get_settings
        from serving.batch import WRITING, BatchOptions, CaseloadScorer, score_to_file, write_shortlists
        from serving.loading import load_ranker

    settings = get_settings()
    per_slot = args.per_slot if args.per_slot is not None else settings.suggestions_per_slot
    options = BatchOptions(
        top_k=args.top_k,
        exclude_unmet_required=settings.exclude_unmet_required,
        chunk_pairs=args.chunk_pairs,
        allocate=args.allocate,
        per_slot=per_slot,
        pool=max(args.pool, args.top_k),
        floor=min(args.floor, args.top_k),
    )
    if args.engine == "spark" and args.allocate:
        raise ValueError("--allocate runs on the local engine only (the allocation is one solve over the caseload)")
    if not args.ignore_off_switch:
        with stages.time("checking the off-switch"):
            refuse_if_switched_off(settings.database_url)
    with stages.time("reading data"):
        dataset = load_dataset(args.data, with_truth=False)
    model_uri = args.model or settings.model_uri
    figures: dict[str, Any]
    if args.engine == "spark":
        from serving.spark.engine import score_caseload_spark

        say(f"scoring on Spark ({args.spark_master}) with {model_uri}")
        with stages.time("scoring on Spark"):
            frame, on_spark = score_caseload_spark(
                dataset,
                model_uri,
                settings.tracking_uri,
                top_k=args.top_k,
                exclude_unmet_required=settings.exclude_unmet_required,
                master=args.spark_master,
                progress=say,
            )
        figures = dict(on_spark)
        with stages.time(WRITING):
            out = write_shortlists(frame, Path(args.out))
    else:
        with stages.time("loading model"):
            model = load_ranker(model_uri, settings.tracking_uri)
        say(f"scoring with {model.name} version {model.version}")
        scorer = CaseloadScorer(dataset, model, options, stages)
        say(
            f"{len(scorer.rows)} active, consenting candidates against {len(scorer.pool.open_rows)} open workplaces, "
            f"in {len(scorer.bounds)} chunks of about {args.chunk_pairs:,} pairs"
        )
        frame, figures = score_to_file(scorer, Path(args.out), say=say, bar=not args.no_progress)
        out = Path(args.out)
    if "allocation" in figures:
        print(allocation_report(figures["allocation"], args.top_k))
    peak = f", peak memory {figures['peak_memory_mb']:,.0f} MB" if "peak_memory_mb" in figures else ""
    print(
        f"wrote {len(frame)} suggestions for {int(figures['candidates'])} candidates to {out} "
        f"({int(figures['pairs']):,} pairs scored in {figures['seconds']:.1f}s, "
        f"{figures['pairs_per_second']:,.0f} pairs/s{peak})"
    )
    print("\n".join(stages.lines("where the time went", stages.elapsed())))
    return 0


def refuse_if_switched_off(database_url: str | None) -> None:
    """Batch scoring follows the people's off-switch: a model switched off in the store (POST
    /model/off) scores no caseload either, until it is switched on again."""
    from matching.errors import ModelLoadError
    from matching.store.db import make_engine
    from matching.store.errors import StoreError
    from matching.store.schema import require_current
    from serving.switch import read_switch

    engine = make_engine(database_url)
    database = engine.url.database
    if engine.url.get_backend_name() == "sqlite" and (not database or not Path(database).exists()):
        return  # no store yet: nobody has switched anything off
    try:
        require_current(engine)
        switch = read_switch(engine)
    except StoreError:
        return  # no store, or not yet created: nobody has switched anything off
    finally:
        engine.dispose()
    if switch is not None and switch.mode == "rule":
        raise ModelLoadError(
            f"the model is switched off (by {switch.by} at {switch.at:%Y-%m-%d %H:%M}, reason: {switch.reason}); "
            "switch it on (POST /model/on) or pass --ignore-off-switch"
        )


def add_score(sub: Subcommands) -> None:
    p = sub.add_parser("score", help="batch: shortlists for every active, consenting candidate")
    p.add_argument("--data", required=True, type=Path, help="dataset folder")
    p.add_argument("--out", required=True, type=Path, help="parquet file to write")
    p.add_argument("--top-k", type=positive_int, default=10, help="workplaces per candidate (default 10)")
    p.add_argument("--model", help="model URI (default models:/jobmatch-ranker@champion)")
    p.add_argument(
        "--allocate",
        action="store_true",
        help="choose the shortlists for the whole caseload so no workplace is suggested to more than "
        "--per-slot candidates per free slot, maximising total expected success",
    )
    p.add_argument(
        "--per-slot",
        type=positive_float,
        default=None,
        help="with --allocate: suggestions per free slot (default JOBMATCH_SUGGESTIONS_PER_SLOT, 3)",
    )
    p.add_argument(
        "--pool",
        type=positive_int,
        default=50,
        help="with --allocate: each candidate's best pairs the allocation chooses from (default 50)",
    )
    p.add_argument(
        "--floor",
        type=int,
        default=3,
        help="with --allocate: suggestions every candidate gets first where capacity allows, before total "
        "expected success is maximised; 0 maximises the total alone (default 3)",
    )
    p.add_argument(
        "--chunk-pairs",
        type=positive_int,
        default=500_000,
        help="pairs scored at once; bounds memory (default 500000)",
    )
    p.add_argument("--engine", choices=("local", "spark"), default="local", help="where to score (default local)")
    p.add_argument(
        "--spark-master",
        default="local[2]",
        help="with --engine spark: the Spark master URL, e.g. local[2], spark://host:7077, yarn (default local[2])",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--ignore-off-switch",
        action="store_true",
        help="score even when the model is switched off in the store (JOBMATCH_DATABASE_URL)",
    )
    p.set_defaults(run=cmd_score)
