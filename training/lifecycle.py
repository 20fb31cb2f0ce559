"""Log a training run to MLflow, register the servable model, and move `champion` only when the
new model beats the current champion on the same held-out persons (the rule: `training.promotion`;
the registry side: `training.champion`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.models import infer_signature  # noqa: E402

from features.registry import FEATURES, registry_fingerprint  # noqa: E402
from matching import servable  # noqa: E402
from matching.datasets import Dataset  # noqa: E402
from matching.model import pair_records  # noqa: E402
from matching.paths import reference_dir  # noqa: E402
from matching.settings import MODEL_NAME  # noqa: E402
from matching.tracking import artifact_location, configure_tracking  # noqa: E402
from training.champion import Outcome, champion_version, decide_promotion, flags_tag, log_outcome  # noqa: E402
from training.fairness import SMALL_GROUP  # noqa: E402
from training.promotion import CHAMPION, PRIMARY, flag_keys  # noqa: E402
from training.train import TrainResult  # noqa: E402

__all__ = ["Registration", "champion_version", "decide_promotion", "log_and_register", "model_card"]

EXPERIMENT = "jobmatch-ranker"
REQUIREMENTS = ("lightgbm", "mlflow", "numpy", "pandas", "pyarrow", "scikit-learn", "pydantic")


@dataclass
class Registration:
    """The registered version and what happened to the `champion` alias."""

    run_id: str
    version: str
    promoted: bool
    message: str
    new_score: float
    champion_score: float | None
    outcome: Outcome | None = None

    def lines(self) -> list[str]:
        """The promotion decision, its intervals and reasons (printed by `jobmatch train`)."""
        return self.outcome.lines() if self.outcome is not None else [self.message]


def pip_requirements() -> list[str]:
    """Pinned requirements of the pyfunc (inferring them costs seconds; see PITFALLS)."""
    out = []
    for name in REQUIREMENTS:
        try:
            out.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(name)
    return out


def importance_figure(result: TrainResult) -> Figure:
    """What the score rests on: the linear base's standardised weights and the trees' gain."""
    booster = result.ranker.booster
    names = booster.feature_name()
    weights = np.array(result.ranker.base.weight)
    gains = booster.feature_importance(importance_type="gain")
    order = np.argsort(np.abs(weights) + gains / max(gains.sum(), 1e-12))
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 5), sharey=True)
    left.barh(
        [names[i] for i in order],
        weights[order],
        color=["#3b6ea5" if w >= 0 else "#b5523b" for w in weights[order]],
    )
    left.set_xlabel("weight per standard deviation")
    left.set_title("Linear base (within candidates)")
    right.barh([names[i] for i in order], gains[order] / max(gains.sum(), 1e-12), color="#6a8f4e")
    right.set_xlabel(f"share of total gain ({booster.num_trees()} trees)")
    right.set_title("LightGBM trees on top")
    figure.tight_layout()
    return figure


def is_synthetic(dataset: Dataset) -> bool:
    """Whether a dataset is the project generator's synthetic data (a truth file, or its README)."""
    if dataset.truth is not None:
        return True
    if dataset.path is None:
        return False
    readme = Path(dataset.path) / "README.md"
    return readme.exists() and "SYNTHETIC" in readme.read_text(encoding="utf-8", errors="ignore")


def model_card(result: TrainResult, fingerprint: str | None = None, synthetic: bool | None = None) -> str:
    """The model card (markdown): intended use and users, data, model, metrics against baselines
    in both directions, fairness by audit group, calibration, drift reference, limits, oversight.

    Logged as `model_card.md` with every run and kept in the model's own metadata
    (`ranker.meta["model_card"]`), so a served model can show it.

    Args:
        result: the training run.
        fingerprint: the dataset fingerprint (default: the model's meta, else computed).
        synthetic: whether the data are synthetic (default: `is_synthetic`).
    """
    ranker = result.ranker
    if fingerprint is None:
        fingerprint = str(ranker.meta.get("dataset_fingerprint") or result.dataset.fingerprint())
    if synthetic is None:
        synthetic = is_synthetic(result.dataset)
    counts = result.counts
    table = result.evaluation.frame()
    group_by = ranker.meta.get("group_by", "candidate")
    run_id = ranker.meta.get("run_id")
    source = "SYNTHETIC data made by the project generator (no real person)" if synthetic else "contract dataset"
    lines = [
        f"# Model card: {MODEL_NAME}",
        "",
        f"MLflow run `{run_id}`." if run_id else "Not yet logged to MLflow.",
        "",
        "## Intended use",
        "Ranked suggestions of ordinary workplaces for work trials, for job seekers with extensive support",
        "needs (for example severe mental illness). Each suggestion is explained (what speaks for and",
        "against it, which support needs the workplace meets, which tasks need training), so that a person",
        "reviews it. **The model suggests; an adviser decides.** It never places anyone automatically.",
        "",
        "Not for: automated decisions about people; screening people out of services, trials or jobs;",
        "showing an employer a ranking of job seekers, or any person who has not said they are interested",
        "and been presented to that workplace by an adviser or job specialist; any use on people who have",
        "not consented. Ranking people for jobs is a high-risk use (EU AI Act, Annex III): human",
        "oversight, the fairness report below and its monitoring are part of the use.",
        "",
        "## Users",
        "- Employment advisers: shortlists of workplaces for a person in their caseload; they decide",
        "  whom to contact, together with the person.",
        "- Job specialists (the support system's staff who work with employers): the reverse direction,",
        "  suitable persons for the workplaces they work with; they present a person to a workplace only",
        "  after the person has said they are interested.",
        "- Employers (the workplace's representative) never see a ranking or a score: only the persons",
        "  presented to them who said they are interested, and those persons' plans to approve.",
        "- Data scientists: retraining, evaluation, promotion, fairness and drift checks.",
        "- Overnight batch jobs: shortlists for a whole caseload, for advisers to review.",
        "",
        "## Data",
        f"- dataset fingerprint (sha256 of the contract tables): `{fingerprint}`",
        f"- {source}: {counts['candidates']} candidates, {counts['workplaces']} workplaces,"
        f" {counts['logged_pairs']} logged pairs",
        "- data contract v1 (`workplaces`, `candidates`, `outcomes`, optional `audit`): see the project README",
        f"- split by candidate (stable hash of the id): {counts['train_candidates']} training and "
        f"{counts['held_out_candidates']} held-out candidates; no one is in both",
        "- features (name: direction): " + ", ".join(f"{f.name}: {f.direction:+d}" for f in FEATURES),
        f"- feature registry fingerprint: `{registry_fingerprint()}`",
        "- never features: diagnoses, age, gender, national origin. Support needs are functional (what",
        "  helps at work), never diagnoses. The `audit` table (age band, gender) is read only for the",
        "  fairness report below, never for training or scoring.",
        "",
        "## Model",
        "A LightGBM booster of the expected grade (Poisson objective, monotone constraints as declared,",
        f"{ranker.booster.num_trees()} trees), its leaves, rounds and optional linear base (least squares",
        f"of grade on standardised features within {group_by}s, each weight kept to its feature's declared",
        "direction; all zero when the cross-validation left it out) chosen by grouped cross-validation on",
        "the training candidates. Score = linear part + trees; contributions add up the same way.",
        "Linear weights: "
        + ", ".join(f"{name} {weight:+.3f}" for name, weight in zip(ranker.features, ranker.base.weight, strict=True)),
        "",
        "## Metrics against baselines (held-out candidates, NDCG, linear gains)",
        "`logged`: the held-out pairs advisers actually suggested (gain: recorded grade 0-4).",
        "`all_eligible`: every eligible workplace of each held-out candidate (gain: true expected grade;",
        "only where the dataset carries a synthetic truth file): the shortlist an adviser really gets.",
        "`logged_by_workplace`, `all_eligible_by_workplace`: the other direction, the same held-out",
        "candidates' pairs grouped by workplace (each workplace's held-out candidates ranked, as in an",
        "employer's shortlist); workplaces with a single pair are left out. Baselines: `rule`",
        "(hand-weighted score), `logistic` (pointwise logistic regression), `random` (mean of 5 seeds),",
        "`oracle` (the true expected grade). Promotion is decided in the candidate direction on the",
        "logged pairs only, truth file or not: a paired bootstrap over held-out persons of the share of",
        "correctly ordered pairs (and NDCG@10) against the champion and the baselines (`promotion.md`).",
        "",
        *metric_summary(result),
        "",
        "| protocol | method | NDCG@1 | NDCG@5 | NDCG@10 |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for values in table.to_dict("records"):
        lines.append(
            f"| {values['protocol']} | {values['method']} | {values['ndcg@1']:.4f} | {values['ndcg@5']:.4f} "
            f"| {values['ndcg@10']:.4f} |"
        )
    lines += ["", "## Fairness by audit group", *fairness_section(result, synthetic), ""]
    lines += [
        "## Calibration",
        calibration_line(result),
        "",
        "## Drift reference",
        drift_line(result),
        "",
        "## Known limits",
        "- Trained on logged suggestions, which carry advisers' selection bias (near, preferred occupations):",
        "  the logged metrics flatter the model; the all-eligible metrics are the honest ones where available.",
        "- Where the data are synthetic, every figure here describes the generator's world, not real",
        "  people: the metrics and fairness figures must be measured again on real outcomes.",
        "- Task and demand levels derive from O*NET (US occupation averages), not from the workplace itself.",
        "- Scores rank workplaces for one person; they are not probabilities and do not compare across people:",
        "  expected success (calibrated P(hired), above) is the value that does, within the logged pairs' range.",
        "- Outcomes depend on things the records do not hold (a person's readiness, an employer's",
        "  inclusion competence); where those differ between groups, so do the expected grades of the",
        "  best suggestions (see the fairness section), however well the model ranks.",
        "- Fairness is checked only for the audit table's attributes (age band, gender), with small groups",
        "  noisy; other groups (origin, disability type) are not checked.",
        "- Feature drift (PSI against the reference) does not show a changed relation between features",
        "  and outcomes: retrain and compare on recent outcomes for that.",
        "",
        "## Human oversight",
        "An adviser reviews every suggestion with the person and decides; nothing is placed automatically.",
        "A suggestion's explanation, the person's own wishes and the adviser's knowledge outweigh the",
        "score. Scores must not be used to deny anyone a service or a trial.",
    ]
    return "\n".join(lines) + "\n"


def metric_summary(result: TrainResult) -> list[str]:
    """One line per protocol: the model's NDCG@10 against each baseline's."""
    evaluation = result.evaluation
    out = []
    for protocol in dict.fromkeys(row.protocol for row in evaluation.rows):
        model = evaluation.value(protocol, "model")
        others = ", ".join(
            f"{method} {evaluation.value(protocol, method):.4f}"
            for method in ("rule", "logistic", "plain_lgbm", "random", "oracle")
            if evaluation.value(protocol, method) == evaluation.value(protocol, method)
        )
        out.append(f"- `{protocol}`: model NDCG@10 {model:.4f} (baselines: {others})")
    return out


def fairness_section(result: TrainResult, synthetic: bool = False) -> list[str]:
    """The model card's fairness section: what was measured, the group table with flags."""
    report = result.fairness
    if report is None:
        return [
            "Not measured: the training data had no `audit` table (age band, gender). Measure it before",
            "use; ranking people for jobs is a high-risk use.",
        ]
    lines = [f"- {line}" for line in report.describe()]
    lines += [
        "- NDCG@10 says how well each group's own list is ordered; the full list share how many get",
        "  ten eligible workplaces at all; the top-10 grade how good their suggestions are.",
        "",
        *report.markdown(),
        "",
    ]
    flagged = report.flagged
    if len(flagged):
        lines.append(
            "Flagged: "
            + "; ".join(f"{r['attribute']} {r['group']} on {r['flagged_on']}" for r in flagged.to_dict("records"))
            + ". A flag asks for review before and during use, with advisers told of it."
        )
        if "top10_of_oracle" in report.frame.columns:
            lines.append(
                "Where a flagged group's share of the oracle is close to the others', the model ranks its"
                " options as well as anyone's: the gap is in the expected outcomes themselves (fewer good"
                " matches, or outcomes that were historically worse), which ranking alone cannot close."
            )
    else:
        lines.append(f"No group is under {report.threshold:g} of the best group on any metric.")
    small = report.frame[report.frame["n_candidates"] < SMALL_GROUP]
    if len(small):
        lines.append(
            f"Groups with fewer than {SMALL_GROUP} held-out candidates are too small to judge: "
            + ", ".join(f"{r['attribute']} {r['group']} (n={r['n_candidates']})" for r in small.to_dict("records"))
            + "."
        )
    if synthetic:
        lines.append(
            "The synthetic generator gives each person a latent readiness (not in the records) that is lower in"
            " older age bands, following NAV's age gradient of hire rates (50-59 and above all 60+), so their"
            " expected grades are lower whatever is suggested (the generator's documented gap)."
        )
    return lines


def drift_line(result: TrainResult) -> str:
    """The model card's line on the drift reference kept in the model."""
    reference = result.ranker.meta.get("feature_reference")
    if not reference:
        return "None: this model cannot be checked for feature drift."
    return (
        f"The model keeps the feature distribution of {reference.get('pairs', 0)} {reference.get('source', '')}"
        " (deciles, or values for features with few), so new data can be checked for drift with the"
        " population stability index per feature (under 0.1 stable, 0.1-0.25 moderate, 0.25 and over drifted)."
    )


def calibration_line(result: TrainResult) -> str:
    """The model card's line on expected success (Platt-calibrated P(hired | score))."""
    calibration = result.ranker.meta.get("calibration")
    if not calibration:
        return "Expected success: not calibrated (this model has no P(hired))."
    line = (
        f"Expected success P(hired | score) = 1/(1+exp(-({calibration['slope']:.4f} * score"
        f" {calibration['intercept']:+.4f}))), Platt-calibrated on {calibration['pairs']} logged"
        f" {calibration.get('fitted_on', '')} pairs ({calibration['positives']} hires); it is P(hired) for pairs"
        " like those advisers suggest."
    )
    check = result.calibration_check
    if "held_out_logged.mean_p_hired" in check:
        line += (
            f" Held-out logged pairs: mean predicted {check['held_out_logged.mean_p_hired']:.4f},"
            f" observed hire rate {check['held_out_logged.hire_rate']:.4f}."
        )
    if "held_out_eligible.mean_p_hired" in check:
        line += (
            f" All eligible held-out pairs: mean predicted {check['held_out_eligible.mean_p_hired']:.4f},"
            f" true {check['held_out_eligible.true_p_hired']:.4f}."
        )
    return line


def log_and_register(
    result: TrainResult,
    tracking_uri: str,
    model_name: str = MODEL_NAME,
    progress: Callable[[str], None] | None = None,
    force: str | None = None,
) -> Registration:
    """Log params, metrics, plot, model card, fairness table and fingerprint; register the pyfunc;
    decide on promotion against the current champion (`training.champion`) and record the decision,
    its paired intervals and reasons on the run and the model version.

    Args:
        result: the training run.
        tracking_uri: the MLflow store.
        model_name: the registered model.
        progress: called with a short message at each step.
        force: a reason to make this version champion whatever the rule decides (recorded).
    """
    say = progress or (lambda message: None)
    uri = configure_tracking(tracking_uri)
    client = MlflowClient(uri, uri)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        experiment_id = client.create_experiment(EXPERIMENT, artifact_location=artifact_location(uri))
    else:
        experiment_id = experiment.experiment_id
    dataset = result.dataset
    fingerprint = dataset.fingerprint()
    synthetic = is_synthetic(dataset)
    say(f"logging to MLflow at {uri}")
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params({k: str(v) for k, v in result.params.items()})
        mlflow.log_params({f"data.{k}": v for k, v in result.counts.items()})
        mlflow.log_param("group_by", result.ranker.meta.get("group_by", "candidate"))
        mlflow.set_tags(
            {
                "dataset.fingerprint": fingerprint,
                "dataset.path": str(dataset.path) if dataset.path else "",
                "dataset.synthetic": str(synthetic).lower(),
                "feature_registry": registry_fingerprint(),
            }
        )
        mlflow.log_metrics({k: v for k, v in result.evaluation.metrics().items() if v == v})
        mlflow.log_metric("train_seconds", result.seconds)
        # where the training time went, per stage (`TrainResult.stages`)
        mlflow.log_metrics({f"seconds.{name.replace(' ', '_')}": v for name, v in result.stages.seconds.items()})
        calibration = result.ranker.meta.get("calibration")
        if calibration:
            mlflow.log_params({f"calibration.{k}": v for k, v in calibration.items()})
            mlflow.log_metrics(
                {
                    "calibration.slope": float(calibration["slope"]),
                    "calibration.intercept": float(calibration["intercept"]),
                    **{f"calibration.{k}": v for k, v in result.calibration_check.items() if v == v},
                }
            )
        figure = importance_figure(result)
        mlflow.log_figure(figure, "feature_importance.png")
        plt.close(figure)
        mlflow.log_text(result.evaluation.frame().to_csv(index=False), "evaluation.csv")
        if result.fairness is not None:
            mlflow.log_text(result.fairness.frame.to_csv(index=False), "fairness.csv")
            mlflow.log_text("\n".join([*result.fairness.lines(), ""]), "fairness.txt")
            mlflow.log_metrics({k: v for k, v in result.fairness.metrics().items() if v == v})
            mlflow.set_tag("fairness.flags", flags_tag(flag_keys(result.fairness.frame)))
        ranker = result.ranker
        if "feature_reference" in ranker.meta:
            mlflow.log_dict(ranker.meta["feature_reference"], "feature_reference.json")
        ranker.meta.update({"dataset_fingerprint": fingerprint, "run_id": run.info.run_id})
        # the card goes with the model itself, so a served model can show it
        card = model_card(result, fingerprint, synthetic)
        ranker.meta["model_card"] = card
        mlflow.log_text(card, "model_card.md")
        with tempfile.TemporaryDirectory() as tmp:
            artifacts = ranker.save(Path(tmp))
            artifacts["catalogue"] = str(reference_dir() / "catalogue")
            example = pair_records(
                dataset.candidates,
                dataset.workplaces,
                result.held_out.logged.c_idx[:5],
                result.held_out.logged.w_idx[:5],
            )
            scores = ranker.score(result.held_out.logged.matrix[:5])
            signature = infer_signature(example, {"score": scores})
            say("registering the model")
            os.environ.setdefault("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "false")
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=str(Path(servable.__file__)),
                artifacts=artifacts,
                signature=signature,
                input_example=example.head(2),
                pip_requirements=pip_requirements(),
                registered_model_name=model_name,
                metadata={"feature_registry": registry_fingerprint(), "dataset_fingerprint": fingerprint},
            )
        version = str(info.registered_model_version)
        say("comparing with the champion on the same held-out persons (paired bootstrap)")
        outcome = decide_promotion(client, model_name, version, result, force)
        log_outcome(client, model_name, outcome, result)
    say(outcome.message)
    primary = outcome.decision.find(CHAMPION, PRIMARY)
    first = next((c for c in outcome.decision.comparisons if c.measure == PRIMARY), None)
    new_score = primary.challenger if primary else first.challenger if first else float("nan")
    return Registration(
        run.info.run_id,
        version,
        outcome.promoted,
        outcome.message,
        new_score,
        primary.other_value if primary else None,
        outcome,
    )
