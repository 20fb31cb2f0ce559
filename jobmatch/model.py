"""The model subcommands: `train` a ranker (from a dataset, the store's decisions, or both) and
register it, ending with where the time went and what each part buys (`training.costs`); compare
new data with the champion's training data (`drift`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from jobmatch.common import say

if TYPE_CHECKING:
    from jobmatch.common import Subcommands


def cmd_train(args: argparse.Namespace) -> int:
    from matching.timing import Stages

    stages = Stages()
    with stages.time("importing"):
        from matching.settings import get_settings
        from training.costs import MLFLOW, cost_lines
        from training.from_store import training_data_from_store
        from training.lifecycle import log_and_register
        from training.train import Progress, train_ranker

    settings = get_settings()
    if args.force is not None and not args.force.strip():
        raise ValueError("--force needs a reason (it is recorded with the model version)")
    progress = Progress(not args.quiet)
    data, stored = args.data, None
    if getattr(args, "from_db", False):
        with stages.time("reading the store"):
            data, stored = training_data_from_store(
                args.data, getattr(args, "database_url", None), progress, report=print
            )
    if data is None:
        raise ValueError("give --data DIR, --from-db, or both")
    result = train_ranker(
        data,
        seed=args.seed,
        exclude_unmet_required=settings.exclude_unmet_required,
        progress=progress,
        stored=stored,
        stages=stages,
    )
    print("\n".join(result.report_lines()))
    if args.no_register:
        if args.force:
            raise ValueError("--force promotes a registered model: it cannot go with --no-register")
        print("\n".join(cost_lines(result, stages.elapsed())))
        return 0
    force = args.force.strip() if args.force else None
    with stages.time(MLFLOW):
        registration = log_and_register(result, settings.tracking_uri, settings.model_name, progress, force=force)
    print(f"run {registration.run_id}: registered {settings.model_name} version {registration.version}")
    print("\n".join(registration.lines()))
    print("\n".join(cost_lines(result, stages.elapsed())))
    return 0


def cmd_drift(args: argparse.Namespace) -> int:
    from matching.datasets import load_dataset
    from matching.drift import drift_report
    from matching.settings import get_settings
    from serving.loading import load_ranker

    settings = get_settings()
    model = load_ranker(args.model or settings.model_uri, settings.tracking_uri)
    dataset = load_dataset(args.data, with_truth=False)
    say(f"comparing {args.data} with what {model.name} version {model.version} was trained on")
    report = drift_report(dataset, model.ranker, exclude_unmet_required=settings.exclude_unmet_required)
    print("\n".join(report.lines()))
    return 0


def add_train(sub: Subcommands) -> None:
    p = sub.add_parser("train", help="train, evaluate against baselines, log to MLflow, register, maybe promote")
    p.add_argument("--data", type=Path, default=None, help="dataset folder with an outcomes table")
    p.add_argument(
        "--from-db",
        action="store_true",
        help="learn from the store's decisions and outcomes (with the feature values the model saw); "
        "mixed with --data when given, else the store's own records",
    )
    p.add_argument(
        "--database-url", default=None, help="the store (default: JOBMATCH_DATABASE_URL or data/jobmatch.db)"
    )
    p.add_argument("--seed", type=int, default=0, help="LightGBM seed (default 0)")
    p.add_argument("--no-register", action="store_true", help="evaluate only; log and register nothing")
    p.add_argument(
        "--force",
        metavar="REASON",
        default=None,
        help="make this version champion whatever the champion rule decides; the reason is printed and"
        " recorded in MLflow (run and model version tags, the version's description)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(run=cmd_train)


def add_drift(sub: Subcommands) -> None:
    p = sub.add_parser(
        "drift",
        help="compare new data's feature distributions with the champion's training data (PSI per feature)",
    )
    p.add_argument("--data", required=True, type=Path, help="dataset folder with the new data")
    p.add_argument("--model", help="model URI (default models:/jobmatch-ranker@champion)")
    p.set_defaults(run=cmd_drift)
