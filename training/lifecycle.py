"""Log a training run to MLflow, register the servable model, and move `champion` only when the
new model beats the current champion on the same held-out data."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import numpy as np  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.models import infer_signature  # noqa: E402

from features.registry import FEATURES, registry_fingerprint  # noqa: E402
from matching import servable  # noqa: E402
from matching.model import pair_records  # noqa: E402
from matching.paths import reference_dir  # noqa: E402
from matching.settings import CHAMPION, MODEL_NAME  # noqa: E402
from matching.tracking import artifact_location, configure_tracking  # noqa: E402
from training.evaluate import ndcg_at_k  # noqa: E402
from training.train import TrainResult  # noqa: E402

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


def pip_requirements() -> list[str]:
    """Pinned requirements of the pyfunc (inferring them costs seconds; see PITFALLS)."""
    out = []
    for name in REQUIREMENTS:
        try:
            out.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(name)
    return out


def importance_figure(result: TrainResult) -> plt.Figure:
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
    right.set_title("LightGBM lambdarank on top")
    figure.tight_layout()
    return figure


def model_card(result: TrainResult, fingerprint: str, synthetic: bool) -> str:
    """The model card: data, metrics against baselines, intended use, limits."""
    counts = result.counts
    table = result.evaluation.frame()
    group_by = result.ranker.meta.get("group_by", "candidate")
    lines = [
        f"# Model card: {MODEL_NAME}",
        "",
        "## Intended use",
        "Ranks ordinary workplaces for a job seeker with extensive support needs, so that an employment",
        "adviser can review an explained shortlist and decide whom to contact. The model suggests; the",
        "adviser decides. It never places anyone automatically. Users: employment advisers (shortlists),",
        "data scientists (retraining), overnight batch jobs (whole caseloads).",
        "",
        "## Data",
        f"- dataset fingerprint (sha256 of the contract tables): `{fingerprint}`",
        f"- {'SYNTHETIC data made by the project generator' if synthetic else 'contract dataset'}: "
        f"{counts['candidates']} candidates, {counts['workplaces']} workplaces, {counts['logged_pairs']} logged pairs",
        f"- split by candidate (stable hash of the id): {counts['train_candidates']} training and "
        f"{counts['held_out_candidates']} held-out candidates; no one is in both",
        "- features (name: direction): " + ", ".join(f"{f.name}: {f.direction:+d}" for f in FEATURES),
        f"- feature registry fingerprint: `{registry_fingerprint()}`",
        "- never features: diagnoses, age, gender, national origin (the `audit` table is not read for training)",
        "",
        "## Model",
        f"A linear ranker fitted within {group_by}s (least squares of grade on standardised features, each",
        "weight kept to its feature's declared direction), with a LightGBM lambdarank booster grouped by",
        f"{group_by} fitted on top of it ({result.ranker.booster.num_trees()} trees, monotone constraints as",
        "declared). Score = linear part + trees; contributions add up the same way.",
        calibration_line(result),
        "Linear weights: "
        + ", ".join(
            f"{name} {weight:+.3f}"
            for name, weight in zip(result.ranker.features, result.ranker.base.weight, strict=True)
        ),
        "",
        "## Metrics on held-out candidates (NDCG, linear gains)",
        "`logged`: the held-out pairs advisers actually suggested (gain: recorded grade 0-4).",
        "`all_eligible`: every eligible workplace of each held-out candidate (gain: true expected grade;",
        "only where the dataset carries a synthetic truth file).",
        "`logged_by_workplace`, `all_eligible_by_workplace`: the same held-out candidates' pairs grouped by",
        "workplace (each workplace's held-out candidates ranked, as in an employer's shortlist); workplaces",
        "with a single pair are left out. Promotion is decided in the candidate direction only.",
        "",
        "| protocol | method | NDCG@1 | NDCG@5 | NDCG@10 |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for values in table.to_dict("records"):
        lines.append(
            f"| {values['protocol']} | {values['method']} | {values['ndcg@1']:.4f} | {values['ndcg@5']:.4f} "
            f"| {values['ndcg@10']:.4f} |"
        )
    lines += [
        "",
        "## Limits",
        "- Trained on logged suggestions, which carry advisers' selection bias (near, preferred occupations):",
        "  the logged metrics flatter the model; the all-eligible metrics are the honest ones where available.",
        "- Task and demand levels derive from O*NET (US occupation averages), not from the workplace itself.",
        "- Scores rank workplaces for one person; they are not probabilities and do not compare across people:",
        "  expected success (calibrated P(hired), above) is the value that does, within the logged pairs' range.",
        "- Not checked for fairness across groups in this version; do not use without human review.",
    ]
    return "\n".join(lines) + "\n"


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
) -> Registration:
    """Log params, metrics, plot, model card and fingerprint; register the pyfunc; decide on
    promotion against the current champion."""
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
    synthetic = bool(dataset.truth is not None) or (
        dataset.path is not None
        and (Path(dataset.path) / "README.md").exists()
        and "SYNTHETIC" in (Path(dataset.path) / "README.md").read_text(encoding="utf-8", errors="ignore")
    )
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
        mlflow.log_text(model_card(result, fingerprint, synthetic), "model_card.md")
        mlflow.log_text(result.evaluation.frame().to_csv(index=False), "evaluation.csv")
        ranker = result.ranker
        ranker.meta.update({"dataset_fingerprint": fingerprint, "run_id": run.info.run_id})
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
        registration = decide_promotion(client, model_name, version, result)
        mlflow.set_tags({"promoted": str(registration.promoted).lower(), "promotion": registration.message})
    say(registration.message)
    return Registration(
        run.info.run_id,
        version,
        registration.promoted,
        registration.message,
        registration.new_score,
        registration.champion_score,
    )


def champion_version(client: MlflowClient, model_name: str) -> str | None:
    """The version the `champion` alias points at, or None."""
    try:
        return str(client.get_model_version_by_alias(model_name, CHAMPION).version)
    except MlflowException:
        return None


def decide_promotion(client: MlflowClient, model_name: str, version: str, result: TrainResult) -> Registration:
    """Move `champion` to `version` only if it beats the current champion's NDCG@10 on this run's
    held-out data (every eligible workplace when a truth exists, else the logged pairs)."""
    protocol, pairs, gains = result.held_out.primary()
    new_score = ndcg_at_k(gains, result.ranker.score(pairs.matrix), pairs.c_idx, 10)
    current = champion_version(client, model_name)
    tag = f"NDCG@10 on held-out {protocol} pairs"
    if current is None:
        client.set_registered_model_alias(model_name, CHAMPION, version)
        return Registration(
            "",
            version,
            True,
            f"version {version} is now champion (there was none); {tag} {new_score:.4f}",
            new_score,
            None,
        )
    try:
        loaded = mlflow.pyfunc.load_model(f"models:/{model_name}/{current}")
        champion: Any = loaded.unwrap_python_model().ranker
        champion.check_compatible()
        old_score = ndcg_at_k(gains, champion.score(pairs.matrix), pairs.c_idx, 10)
    except Exception as error:  # a champion that cannot score today's features cannot win
        client.set_registered_model_alias(model_name, CHAMPION, version)
        return Registration(
            "",
            version,
            True,
            f"version {version} is now champion: champion v{current} could not be evaluated ({error}); "
            f"{tag} {new_score:.4f}",
            new_score,
            None,
        )
    if new_score > old_score:
        client.set_registered_model_alias(model_name, CHAMPION, version)
        message = f"version {version} is now champion: {tag} {new_score:.4f} beats v{current}'s {old_score:.4f}"
        return Registration("", version, True, message, new_score, old_score)
    message = f"champion stays v{current}: its {tag} {old_score:.4f} >= version {version}'s {new_score:.4f}"
    return Registration("", version, False, message, new_score, old_score)
