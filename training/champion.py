"""Challenger against champion in the model registry: score the champion on this run's held-out
persons, apply the champion rule (`training.promotion`), move the `champion` alias, and record
the decision where a data scientist looks for it (MLflow run and model version).

The decision always uses the held-out logged pairs, with or without a synthetic truth file, so
the rule that is tested on synthetic data is the one that runs on real records. With a truth
file the report also shows NDCG@10 over every eligible workplace (for information only).

Recorded on the challenger's run: metrics `promotion.<other>.<measure>.{difference,low,high}`
and `promotion.<scorer>.<measure>` (scorers: `model`, `champion`, `rule`, `logistic`, ...;
measures `pairwise`, `ndcg_at_10`), params `promotion.*` (resamples, seed, level, primary
measure, held-out persons, champion version), tags `promoted`, `promotion` (the message),
`promotion.decision`, `promotion.reasons`, `promotion.forced` (the reason of a forced
promotion), `fairness.flags`, and artifacts `promotion.json` and `promotion.md`. The model version
gets the same tags and the message as its description.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import mlflow
import numpy as np
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from matching.candidates import CandidateTable, WorkplacePool
from matching.model import Ranker
from matching.settings import CHAMPION
from training.evaluate import ndcg_at_k
from training.fairness import MISSING_GROUP, candidate_values, fairness_report
from training.held_out import ALL_ELIGIBLE, held_out_eligible, logged_person_measures
from training.promotion import (
    CHALLENGER,
    LEVEL,
    MEASURES,
    PRIMARY,
    RESAMPLES,
    SEED,
    Comparison,
    Decision,
    compare,
    decide,
    flag_keys,
    ratio_interval,
)
from training.promotion import CHAMPION as CHAMPION_SCORER
from training.train import TrainResult

# the baselines a challenger must not be worse than (others are reported, not decided on)
DECIDING_BASELINES = ("rule", "logistic")
FLAGS_TAG = "fairness.flags"
NOT_MEASURED = "not measured"


@dataclass
class Outcome:
    """What the promotion step decided and everything it measured."""

    version: str
    promoted: bool
    message: str
    decision: Decision
    champion_version: str | None = None
    persons: int = 0
    champion_flags: list[str] | None = None
    champion_flags_source: str = ""
    all_eligible: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The decision, the intervals and the reasons as text lines (printed by `jobmatch train`)."""
        out = [f"Promotion (paired bootstrap over {self.persons} held-out persons' logged pairs):"]
        out += [f"  {c.other:<10} {c.describe()}" for c in self.decision.comparisons]
        if self.all_eligible:
            out.append(
                "  every eligible workplace (truth file; for information, not decided on): NDCG@10 "
                + ", ".join(f"{name} {value:.4f}" for name, value in self.all_eligible.items())
            )
        if self.champion_version is not None:
            out.append(
                f"  fairness flags of the champion ({self.champion_flags_source}): {_flags(self.champion_flags)}"
            )
            out.append(f"  new fairness flags of this model: {_flags(self.decision.new_flags)}")
        out += [f"  - {reason}" for reason in self.decision.reasons]
        out.append(f"  decision: {self.message}")
        return out

    def as_dict(self) -> dict[str, Any]:
        """The decision as JSON-ready data (`promotion.json`)."""
        return {
            "version": self.version,
            "promoted": self.promoted,
            "forced": self.decision.forced,
            "message": self.message,
            "champion_version": self.champion_version,
            "held_out_persons": self.persons,
            "primary_measure": PRIMARY,
            "resamples": RESAMPLES,
            "seed": SEED,
            "level": LEVEL,
            "comparisons": [c.as_dict() for c in self.decision.comparisons],
            "reasons": self.decision.reasons,
            "new_fairness_flags": self.decision.new_flags,
            "champion_fairness_flags": self.champion_flags,
            "champion_fairness_flags_source": self.champion_flags_source,
            "all_eligible_ndcg_at_10": self.all_eligible,
        }

    def markdown(self) -> str:
        """The decision as a markdown page (`promotion.md`)."""
        lines = [
            f"# Promotion of version {self.version}",
            "",
            f"**{self.message}**",
            "",
            f"Challenger (`model`) against the champion (v{self.champion_version}) and the baselines on the same"
            f" {self.persons} held-out persons' logged pairs; paired bootstrap over persons ({RESAMPLES} resamples,"
            f" seed {SEED}), {LEVEL:.0%} percentile intervals of (model - other). Primary measure: `{PRIMARY}`"
            " (share of a person's logged pairs of different grade that the scores put in the grades' order).",
            "",
            "| other | measure | model | other | difference | low | high |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for c in self.decision.comparisons:
            lines.append(
                f"| {c.other} | {c.measure} | {c.challenger:.4f} | {c.other_value:.4f} | {c.difference:+.4f}"
                f" | {c.low:+.4f} | {c.high:+.4f} |"
            )
        if self.all_eligible:
            lines += ["", "Every eligible workplace (truth file; information only, not decided on): NDCG@10 "]
            lines[-1] += ", ".join(f"{name} {value:.4f}" for name, value in self.all_eligible.items())
        lines += [
            "",
            f"Fairness flags of the champion ({self.champion_flags_source}): {_flags(self.champion_flags)}.",
            f"New fairness flags of this model: {_flags(self.decision.new_flags)}.",
            "",
            "## Reasons",
            *[f"- {reason}" for reason in self.decision.reasons],
            "",
        ]
        return "\n".join(lines)


def _flags(flags: list[str] | None) -> str:
    if flags is None:
        return "unknown"
    return ", ".join(flags) if flags else "none"


def champion_version(client: MlflowClient, model_name: str) -> str | None:
    """The version the `champion` alias points at, or None."""
    try:
        return str(client.get_model_version_by_alias(model_name, CHAMPION).version)
    except MlflowException:
        return None


def load_champion(model_name: str, version: str) -> Ranker:
    """The champion's ranker, checked against today's features."""
    loaded = mlflow.pyfunc.load_model(f"models:/{model_name}/{version}")
    ranker: Ranker = loaded.unwrap_python_model().ranker
    ranker.check_compatible()
    return ranker


def recorded_flags(client: MlflowClient, model_name: str, version: str) -> set[str] | None:
    """The fairness flags recorded with a model version (its tag, else its run's), or None."""
    try:
        model_version = client.get_model_version(model_name, version)
        if FLAGS_TAG in model_version.tags:
            return _parse_flags(model_version.tags[FLAGS_TAG])
        if model_version.run_id:
            tags = client.get_run(model_version.run_id).data.tags
            if FLAGS_TAG in tags:
                return _parse_flags(tags[FLAGS_TAG])
    except MlflowException:
        return None
    return None


def _parse_flags(text: str) -> set[str] | None:
    if text.strip() == NOT_MEASURED:
        return None
    return {part.strip() for part in text.split(";") if part.strip() and part.strip() != "none"}


def flags_tag(flags: set[str] | list[str]) -> str:
    """Fairness flags as a tag value (`attribute=group:metric;...`, or `none`)."""
    return ";".join(sorted(flags)) or "none"


def challenger_flags(result: TrainResult) -> set[str]:
    """The fairness flags of the run's model (none without an audit table)."""
    return flag_keys(result.fairness.frame) if result.fairness is not None else set()


@dataclass
class FairnessComparison:
    """The champion's fairness flags on this run's held-out persons and, per flag of the
    challenger's, how its group's ratio changed (`ratio_interval`)."""

    flags: set[str]
    changes: dict[str, tuple[float, float, float]]


def fairness_here(champion: Ranker, result: TrainResult, flags: set[str]) -> FairnessComparison | None:
    """The champion's fairness flags on this run's held-out persons (measured as `training.train`
    measures the challenger's) and the paired change of each challenger flag's group ratio; None
    without an audit table."""
    dataset = result.dataset
    audit = dataset.audit
    if audit is None or len(audit) == 0:
        return None
    candidates = CandidateTable.build(dataset.candidates)
    eligible = result.held_out.eligible
    if eligible is None:
        reference = result.ranker.meta.get("feature_reference") or {}
        exclude = bool(reference.get("exclude_unmet_required", True))
        eligible = held_out_eligible(candidates, WorkplacePool(dataset.workplaces), exclude)
    logged = result.held_out.logged
    report = fairness_report(champion, audit, candidates, logged, eligible)
    if report is None:
        return None
    mine = candidate_values(result.ranker, candidates, logged, eligible)[0]
    theirs = candidate_values(champion, candidates, logged, eligible)[0]
    changes: dict[str, tuple[float, float, float]] = {}
    for flag in sorted(flags):
        attribute_group, metric = flag.rsplit(":", 1)
        attribute, group = attribute_group.split("=", 1)
        if attribute not in audit.columns or metric not in mine.columns:
            continue
        joined = mine[["candidate_id", metric]].merge(
            theirs[["candidate_id", metric]], on="candidate_id", suffixes=("", "_champion")
        )
        joined = joined.merge(audit[["candidate_id", attribute]], on="candidate_id", how="inner")
        labels = joined[attribute].astype(object).where(joined[attribute].notna(), MISSING_GROUP).astype(str)
        changes[flag] = ratio_interval(
            joined[metric].to_numpy(dtype=np.float64),
            joined[f"{metric}_champion"].to_numpy(dtype=np.float64),
            labels.to_numpy(),
            group,
        )
    return FairnessComparison(flag_keys(report.frame), changes)


def champion_flags(
    client: MlflowClient, model_name: str, version: str, champion: Ranker, result: TrainResult
) -> tuple[set[str] | None, dict[str, tuple[float, float, float]], str]:
    """The champion's fairness flags, the paired change of each challenger flag's group ratio, and
    where the flags come from: measured on this run's held-out persons, else recorded with the
    champion's version or run, else None (unknown)."""
    if result.fairness is None:
        return set(), {}, "not measured: no audit table"
    try:
        here = fairness_here(champion, result, challenger_flags(result))
        if here is not None:
            return here.flags, here.changes, "measured on the same held-out persons"
        problem = "no audit table"
    except Exception as error:  # fall back to what was recorded with the champion
        problem = str(error)
    recorded = recorded_flags(client, model_name, version)
    if recorded is not None:
        return recorded, {}, f"recorded with v{version} (could not be measured here: {problem})"
    return None, {}, f"unknown (could not be measured here: {problem}; none recorded): taken as none"


def measure(result: TrainResult, champion: Ranker | None) -> tuple[list[Comparison], int]:
    """The challenger against the champion (when given) and every baseline, on the held-out logged pairs."""
    scores = dict(result.evaluation.logged_scores)
    if CHALLENGER not in scores:
        scores[CHALLENGER] = result.ranker.score(result.held_out.logged.matrix)
    if champion is not None:
        scores[CHAMPION_SCORER] = champion.score(result.held_out.logged.matrix)
    measures = logged_person_measures(result.held_out, scores)
    return compare(measures), len(measures[CHALLENGER])


def all_eligible_figures(result: TrainResult, champion: Ranker | None) -> dict[str, float]:
    """NDCG@10 over every eligible workplace (truth file only): information, not decided on."""
    protocol, pairs, gains = result.held_out.primary()
    if protocol != ALL_ELIGIBLE:
        return {}
    out = {CHALLENGER: ndcg_at_k(gains, result.ranker.score(pairs.matrix), pairs.c_idx, 10)}
    if champion is not None:
        out[CHAMPION_SCORER] = ndcg_at_k(gains, champion.score(pairs.matrix), pairs.c_idx, 10)
    return out


def decide_promotion(
    client: MlflowClient, model_name: str, version: str, result: TrainResult, force: str | None = None
) -> Outcome:
    """Apply the champion rule to the registered `version` and move `champion` when it wins (or
    when `force` gives a reason to override the rule; the reason is recorded)."""
    current = champion_version(client, model_name)
    mine = challenger_flags(result)
    if current is None:
        comparisons, persons = measure(result, None)
        decision = Decision(True, ["there was no champion: the first model becomes champion"], comparisons)
        decision.forced = force
        message = f"version {version} is now champion (there was none)"
        return _finish(client, model_name, version, True, message, decision, None, persons, None, "", result, None)
    try:
        champion = load_champion(model_name, current)
        comparisons, persons = measure(result, champion)
    except Exception as error:  # a champion that cannot score today's features cannot serve either
        decision = Decision(True, [f"champion v{current} could not be evaluated ({error})"])
        decision.forced = force
        message = f"version {version} is now champion: champion v{current} could not be evaluated ({error})"
        return _finish(client, model_name, version, True, message, decision, current, 0, None, "", result, None)
    theirs, changes, source = champion_flags(client, model_name, current, champion, result)
    deciding = [c for c in comparisons if c.other in (CHAMPION_SCORER, *DECIDING_BASELINES)]
    decision = decide(deciding, mine, theirs, flag_changes=changes)
    decision.comparisons = comparisons
    decision.forced = force
    if decision.promote:
        message = f"version {version} is now champion: it beats v{current} on the same {persons} held-out persons"
    elif force:
        message = f"version {version} is now champion, forced ({force}); the rule would keep v{current}"
    else:
        failed = next(
            (
                r
                for r in decision.reasons
                if not r.startswith(
                    ("better", "not worse", "raises no", "flags the champion lacks", "the champion's fairness")
                )
            ),
            "",
        )
        message = f"champion stays v{current}: version {version} is not promoted ({failed})"
    promote = decision.promote or bool(force)
    flags = sorted(theirs) if theirs is not None else None
    return _finish(
        client, model_name, version, promote, message, decision, current, persons, flags, source, result, champion
    )


def _finish(
    client: MlflowClient,
    model_name: str,
    version: str,
    promote: bool,
    message: str,
    decision: Decision,
    current: str | None,
    persons: int,
    champion_flags: list[str] | None,
    source: str,
    result: TrainResult,
    champion: Ranker | None,
) -> Outcome:
    if decision.forced:
        decision.reasons.append(f"forced by a data scientist: {decision.forced}")
        if decision.promote:
            message += f" (forced: {decision.forced})"
    if promote:
        client.set_registered_model_alias(model_name, CHAMPION, version)
    return Outcome(
        version,
        promote,
        message,
        decision,
        current,
        persons,
        champion_flags,
        source or "none: there was no champion",
        all_eligible_figures(result, champion),
    )


def log_outcome(client: MlflowClient, model_name: str, outcome: Outcome, result: TrainResult) -> None:
    """Record the decision on the active run (metrics, params, tags, `promotion.json`/`.md`) and
    on the model version (tags, description)."""
    metrics: dict[str, float] = {}
    for c in outcome.decision.comparisons:
        name = c.measure.replace("@", "_at_")
        metrics[f"promotion.{c.other}.{name}.difference"] = c.difference
        metrics[f"promotion.{c.other}.{name}.low"] = c.low
        metrics[f"promotion.{c.other}.{name}.high"] = c.high
        metrics[f"promotion.{c.other}.{name}"] = c.other_value
        metrics[f"promotion.{CHALLENGER}.{name}"] = c.challenger
    metrics.update({f"promotion.all_eligible.{k}.ndcg_at_10": v for k, v in outcome.all_eligible.items()})
    mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v == v})
    mlflow.log_params(
        {
            "promotion.primary": PRIMARY,
            "promotion.measures": ",".join(MEASURES),
            "promotion.resamples": RESAMPLES,
            "promotion.seed": SEED,
            "promotion.level": LEVEL,
            "promotion.held_out_persons": outcome.persons,
            "promotion.champion_version": outcome.champion_version or "none",
        }
    )
    tags = version_tags(outcome, result)
    mlflow.set_tags(tags)
    mlflow.log_dict(outcome.as_dict(), "promotion.json")
    mlflow.log_text(outcome.markdown(), "promotion.md")
    for key, value in tags.items():
        client.set_model_version_tag(model_name, outcome.version, key, value)
    client.update_model_version(model_name, outcome.version, description=outcome.message)


def version_tags(outcome: Outcome, result: TrainResult) -> dict[str, str]:
    """The tags of the run and the model version: decision, reasons, primary interval, flags."""
    primary = outcome.decision.find(CHAMPION_SCORER, PRIMARY)
    decision = "promoted" if outcome.promoted else "kept champion"
    if outcome.decision.forced and not outcome.decision.promote:
        decision = "forced"
    tags = {
        "promoted": str(outcome.promoted).lower(),
        "promotion": outcome.message[:5000],
        "promotion.decision": decision,
        "promotion.reasons": json.dumps(outcome.decision.reasons)[:5000],
        "promotion.champion_version": outcome.champion_version or "none",
        FLAGS_TAG: flags_tag(challenger_flags(result)) if result.fairness is not None else NOT_MEASURED,
    }
    if primary is not None:
        tags[f"promotion.{PRIMARY}.vs_champion"] = (
            f"{primary.difference:+.4f} [{primary.low:+.4f}, {primary.high:+.4f}]"
            if not np.isnan(primary.low)
            else "not measurable"
        )
    if outcome.decision.forced:
        tags["promotion.forced"] = outcome.decision.forced[:5000]
    return tags
