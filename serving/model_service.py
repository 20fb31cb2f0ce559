"""The model in service, which can change while the service runs:

- `start` loads the configured model URI at startup and takes the switch the store holds.
- `reload` loads the configured model URI again (a new champion), checks it (it must load, its
  features must be the code's, a trial scoring of a few served candidates must give finite
  scores) and swaps it in; a model that fails is refused and the old one keeps serving.
- `switch` turns the model off (the transparent rule score ranks instead) or on again, audited in
  the store before the service changes (see `serving.switch`).
- polling (`model_poll_seconds`) follows the registry's alias and the switch another process set.
- `follow` takes what another worker of the same service recorded in the store since this one
  last looked (a switch, a reload: the same version is loaded here, or a refusal), called at the
  start of each request when the store's control entries changed (`matching.store.heads`), so
  the request is served as the other worker would serve it. A worker that started after a
  reload loads the configured URI like any start.
- `scoring()` is what a request scores with: one model (or the rule) from start to finish. It is
  taken once per request and pinned to it, so a swap mid-request changes nothing for that
  request, and `model` read later in the same request names the same model.

The model's metrics (name, version, scoring mode, reloads) are kept here too.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import replace
from typing import Any

import numpy as np
from fastapi import HTTPException
from sqlalchemy.engine import Engine

from matching.clock import utc_now
from matching.settings import Settings
from matching.shortlist import Matcher
from matching.store.audit import AuditRecord, latest_audit_entry, record_audit
from matching.store.db import session_scope
from matching.store.heads import RELOAD_ACTIONS, ControlHead
from serving.loading import (
    MODELS_URI,
    LoadedModel,
    ModelLoadError,
    ModelMismatchError,
    TrackingStoreError,
    alias_version,
    load_ranker,
    rule_model,
)
from serving.observability import Metrics, current_request
from serving.reloads import RELOAD_SUBJECT, ReloadRecord, ReloadRefused, model_labels
from serving.scoring import ObservedMatcher, Scoring, Served
from serving.switch import SWITCH_ACTIONS, SWITCH_SUBJECT, Mode, SwitchRecord, read_switch, rule_note, same_switch

log = logging.getLogger("jobmatch.serving")

TRIAL_CANDIDATES = 3


class ModelService:
    """The model loaded (swappable), the scoring switch, the last reload, and the poller."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        served: Served,
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.served = served
        self.metrics = metrics
        self.loaded: LoadedModel | None = None
        self.error: str | None = None
        self.scoring_mode: Mode = "model"
        self.switch_record: SwitchRecord | None = None
        self.last_reload: ReloadRecord | None = None
        self._lock = threading.Lock()  # guards loaded, scoring_mode, switch_record, _rule together
        self._reload_lock = threading.Lock()  # one reload at a time
        self._switch_lock = threading.Lock()  # one switch at a time (audit order = state order)
        self._refused_version: str | None = None
        self._poller: tuple[threading.Thread, threading.Event] | None = None
        self.followed: ControlHead = (0, 0)  # the store's control entries this worker has taken
        self._baseline = 0  # the newest control entry at start: reloads up to it are not followed
        self._follow_lock = threading.Lock()
        self._rule = rule_model(served.pool.catalogue, rule_note(None, None))
        self.metrics.set_model(*model_labels(self.loaded))
        self.metrics.set_scoring_mode(self.scoring_mode)

    def serve(self, served: Served) -> None:
        """Score the next requests over these records (a request already scoring keeps its own)."""
        with self._lock:
            self.served = served

    # set by `start` while the rule score stands in for a model the tracking store could not give:
    # the switch record then (a later switch ends the stand-in its own way)
    _stands_in_since: tuple[SwitchRecord | None] | None = None

    def start(self) -> None:
        """At startup: load the configured model (with the same checks as a reload; a failure
        leaves no model and says why in `error`) and take the switch the store holds. When the
        tracking store itself cannot be read, the rule score serves meanwhile (unless switched
        off, the switch says so already) and `error` says why; the poller loads the model once
        the store can be read (`poll_once`)."""
        unreadable: TrackingStoreError | None = None
        try:
            model = load_ranker(self.settings.model_uri, self.settings.tracking_uri)
            self._trial(model)
            self.model = model
            log.info("model %s version %s loaded", model.name, model.version)
        except TrackingStoreError as error:
            unreadable = error
            self.error = f"the model could not be loaded: {error}"
            log.error("the model could not be loaded; the rule score serves until it can: %s", error)
        except ModelLoadError as error:
            self.error = str(error)
            log.error("no model is serving: %s", error)
        switch = read_switch(self.engine)
        if switch is not None:
            self._apply_switch(switch)
            if switch.mode == "rule":
                log.warning("the model is switched off (by %s at %s): the rule score ranks", switch.by, switch.at)
        if unreadable is not None and self.scoring_mode == "model":
            note = (
                f"the model could not be loaded ({unreadable}): ranked by the transparent rule score until it "
                "can; the adviser decides"
            )
            with self._lock:
                self.scoring_mode = "rule"
                self._rule = replace(self._rule, note=note)
                self._stands_in_since = (self.switch_record,)
            self.metrics.set_scoring_mode("rule")

    # What a request scores with ----------------------------------------------------------------

    @property
    def model(self) -> LoadedModel | None:
        """Inside a request that has taken its scoring: the model (or rule) it scores with.
        Elsewhere: the model loaded (which may be switched off; see `scoring_mode`)."""
        context = current_request()
        if context is not None and isinstance(context.scoring, Scoring):
            return context.scoring.model
        return self.loaded

    @model.setter
    def model(self, value: LoadedModel | None) -> None:
        with self._lock:
            self.loaded = value
        self.metrics.set_model(*model_labels(value))

    def scoring(self) -> Scoring:
        """The model (or, switched off, the rule) this request scores with: taken at the first
        call in a request and the same for the rest of it. 503 when neither can score."""
        context = current_request()
        if context is not None and isinstance(context.scoring, Scoring):
            return context.scoring
        with self._lock:
            model = self._rule if self.scoring_mode == "rule" else self.loaded
            error, served = self.error, self.served
        if model is None:
            raise HTTPException(status_code=503, detail=f"no model is loaded: {error}")
        matcher = ObservedMatcher(
            model.ranker,
            served.candidates,
            served.pool,
            self.settings.exclude_unmet_required,
            self.metrics,
            model.scored_by,
        )
        snapshot = Scoring(model, matcher, served)
        if context is not None:
            context.scoring = snapshot
            context.model_version, context.scored_by = model.version, model.scored_by
        return snapshot

    def in_service(self) -> tuple[str | None, str]:
        """The version that scores a request now, and whether the model or the rule does."""
        with self._lock:
            if self.scoring_mode == "rule":
                return self._rule.version, "rule"
            return (self.loaded.version if self.loaded else None), "model"

    # Reloading -------------------------------------------------------------------------------------

    def reload(self, actor: str, role: str, trigger: str = "api", reason: str | None = None) -> ReloadRecord:
        """Load the configured model URI again and swap it in, or refuse it and keep the old one.

        Raises:
            ReloadRefused: with the reason; the model in service is unchanged.
        """
        uri = self.settings.model_uri
        with self._reload_lock:
            previous = self.loaded
            before = previous.version if previous else None
            attempted: str | None = None
            try:
                attempted = alias_version(uri, self.settings.tracking_uri)
                candidate = load_ranker(uri, self.settings.tracking_uri)
                attempted = candidate.version or attempted
                self._trial(candidate)
            except ModelLoadError as error:
                raise self._refusal(error, actor, role, trigger, before, attempted, reason) from error
            record = ReloadRecord(utc_now(), trigger, actor, "loaded", candidate.version, before, candidate.version)
            # audited before it serves: a model change nobody can trace must not happen
            self._audit(
                actor,
                role,
                "model_reload",
                RELOAD_SUBJECT,
                {
                    "uri": uri,
                    "from_version": before,
                    "to_version": candidate.version,
                    "run_id": candidate.run_id,
                    "trigger": trigger,
                    "reason": reason,
                },
                at=record.at,
            )
            with self._lock:
                self.loaded = candidate
                self.error = None
                self.last_reload = record
                if self.scoring_mode == "rule":
                    self._rule = replace(self._rule, note=rule_note(self.switch_record, candidate))
            self._refused_version = None
            self.metrics.set_model(*model_labels(candidate))
            self.metrics.reloads.labels("loaded", trigger).inc()
            log.info(
                "model %s version %s now serves (was %s; %s by %s)",
                candidate.name,
                candidate.version,
                before,
                trigger,
                actor,
            )
            return record

    def _refusal(
        self,
        error: ModelLoadError,
        actor: str,
        role: str,
        trigger: str,
        before: str | None,
        attempted: str | None,
        reason: str | None,
    ) -> ReloadRefused:
        """Record a refused reload (state, metrics, log, audit) and make its exception."""
        status = 422 if isinstance(error, ModelMismatchError) else 409
        message = f"{error}; {'version ' + before if before else 'no model'} keeps serving"
        record = ReloadRecord(utc_now(), trigger, actor, "refused", before, before, attempted, str(error))
        with self._lock:
            self.last_reload = record
        self._refused_version = attempted
        self.metrics.reloads.labels("refused", trigger).inc()
        log.warning("model reload refused (%s by %s): %s", trigger, actor, message)
        try:
            self._audit(
                actor,
                role,
                "model_reload_refused",
                RELOAD_SUBJECT,
                {
                    "uri": self.settings.model_uri,
                    "version_in_service": before,
                    "attempted_version": attempted,
                    "error": str(error),
                    "trigger": trigger,
                    "reason": reason,
                },
                at=record.at,
            )
        except Exception as audit_error:  # noqa: BLE001  (the refusal stands; say the audit failed)
            log.error("the refused reload could not be audited: %s", type(audit_error).__name__)
        return ReloadRefused(status, message)

    def _trial(self, model: LoadedModel) -> None:
        """Score the pairs of a few served candidates with `model`: finite scores and reasons, or
        `ModelLoadError`."""
        served = self.served
        frame = served.candidates.frame
        rows = np.flatnonzero(frame["consent"].to_numpy(dtype=bool) & frame["active"].to_numpy(dtype=bool))
        rows = rows[:TRIAL_CANDIDATES]
        if len(rows) == 0:
            return
        where = f"{model.uri} (version {model.version})"
        try:
            matcher = Matcher(model.ranker, served.candidates, served.pool, self.settings.exclude_unmet_required)
            scored = matcher.score_rows(rows)
            contributions = model.ranker.contributions(scored.matrix[:5])
        except Exception as error:  # noqa: BLE001  (any failure to score refuses the model)
            raise ModelLoadError(f"{where} failed a trial scoring: {type(error).__name__}") from error
        if not (np.all(np.isfinite(scored.scores)) and np.all(np.isfinite(contributions))):
            raise ModelLoadError(f"{where} gave non-finite scores in a trial scoring")

    # The switch -----------------------------------------------------------------------------------

    def switch(self, mode: Mode, actor: str, role: str, reason: str) -> tuple[SwitchRecord, bool]:
        """Switch scoring to the model ("model") or the rule ("rule"); audited first, then applied.

        Returns:
            The switch record, and whether the mode changed.

        Raises:
            HTTPException: 409 when switching the model on with no model loaded.
        """
        with self._switch_lock:
            with self._lock:
                loaded, previous = self.loaded, self.scoring_mode
            if mode == "model" and loaded is None:
                raise HTTPException(
                    status_code=409,
                    detail=f"no model is loaded ({self.error or 'see /health'}): "
                    "reload one before switching the model on",
                )
            record = SwitchRecord(mode, actor, role, utc_now(), reason)
            self._audit(
                actor,
                role,
                SWITCH_ACTIONS[mode],
                SWITCH_SUBJECT,
                {
                    "mode": mode,
                    "previous_mode": previous,
                    "reason": reason,
                    "model_version": loaded.version if loaded else None,
                },
                at=record.at,
            )
            self._apply_switch(record)
        log.warning("scoring switched to the %s by %s (was the %s)", mode, actor, previous)
        return record, mode != previous

    def _apply_switch(self, record: SwitchRecord) -> None:
        with self._lock:
            self.scoring_mode = record.mode
            self.switch_record = record
            self._rule = replace(self._rule, note=rule_note(record, self.loaded), loaded_at=record.at.timestamp())
        self.metrics.set_scoring_mode(record.mode)

    def sync_switch(self) -> None:
        """Take the switch another process set on the same store (the latest audit entry)."""
        record = read_switch(self.engine)
        if record is None or same_switch(record, self.switch_record):
            return
        with self._switch_lock:
            if not same_switch(record, self.switch_record):
                self._apply_switch(record)
                log.warning("scoring switched to the %s by %s (another process)", record.mode, record.by)

    def _audit(
        self,
        actor: str,
        role: str,
        action: str,
        subject: tuple[str, str],
        detail: dict[str, Any],
        at: dt.datetime | None = None,
    ) -> None:
        with session_scope(self.engine) as session:
            record_audit(session, actor, role, action, subject[0], subject[1], detail, at=at)

    # Following the other workers ------------------------------------------------------------------

    def begin_following(self, head: ControlHead) -> None:
        """At start (before `start`): control entries up to `head` are history, not to follow."""
        self.followed = head
        self._baseline = head[1]

    def follow(self, head: ControlHead) -> None:
        """Take what the store's control entries say now, which another worker set: the latest
        switch, and the latest reload recorded since this worker started (the version it loaded
        is loaded here too, with the same checks; a refusal is shown as the last reload).
        Requests that meanwhile start wait for it, so none is scored by the model left behind."""
        with self._follow_lock:
            if head == self.followed:
                return
            self.sync_switch()
            with session_scope(self.engine, readonly=True) as session:
                entry = latest_audit_entry(session, RELOAD_ACTIONS, *RELOAD_SUBJECT)
            if entry is not None and entry.id > self._baseline:
                self._follow_reload(entry)
            self.followed = head

    def _follow_reload(self, entry: AuditRecord) -> None:
        detail = entry.detail or {}
        loaded = entry.action == "model_reload"
        version = detail.get("to_version") if loaded else detail.get("version_in_service")
        record = ReloadRecord(
            at=entry.at,
            trigger=str(detail.get("trigger", "api")),
            by=entry.actor,
            outcome="loaded" if loaded else "refused",
            version=None if version is None else str(version),
            previous_version=detail.get("from_version") if loaded else version,
            attempted_version=detail.get("to_version") if loaded else detail.get("attempted_version"),
            error=None if loaded else detail.get("error"),
        )
        with self._reload_lock:
            if loaded and record.version is not None and (self.loaded is None or self.loaded.version != record.version):
                if not self._load_version(str(detail.get("uri", self.settings.model_uri)), record.version):
                    return
            elif not loaded:
                self._refused_version = record.attempted_version
            with self._lock:
                self.last_reload = record

    def _load_version(self, uri: str, version: str) -> bool:
        """Load `version` of the model `uri` names (checked and tried like any reload) and serve it;
        False, logged, when it cannot (the model loaded keeps serving)."""
        match = MODELS_URI.match(uri)
        exact = f"models:/{match['name']}/{version}" if match else uri
        try:
            candidate = load_ranker(exact, self.settings.tracking_uri)
            self._trial(candidate)
        except ModelLoadError as error:
            log.error("cannot load the version another worker serves (%s): %s", version, error)
            return False
        candidate = replace(candidate, uri=uri)
        with self._lock:
            before = self.loaded.version if self.loaded else None
            self.loaded = candidate
            self.error = None
            if self.scoring_mode == "rule":
                self._rule = replace(self._rule, note=rule_note(self.switch_record, candidate))
        self.metrics.set_model(*model_labels(candidate))
        log.info("model %s version %s now serves (was %s; reloaded by another worker)", candidate.name, version, before)
        return True

    # Polling --------------------------------------------------------------------------------------

    def poll_once(self) -> None:
        """One look: the switch in the store, and the version the model URI's alias points at now
        (reloaded when it differs from the one serving and was not just refused). A model loaded
        while the rule score stood in for it (`start`) takes over scoring, unless the switch
        was set since."""
        try:
            self.sync_switch()
        except Exception as error:  # noqa: BLE001  (the next look tries again)
            log.warning("cannot read the scoring switch from the store: %s", type(error).__name__)
        try:
            version = alias_version(self.settings.model_uri, self.settings.tracking_uri)
        except ModelLoadError as error:
            log.warning("cannot resolve the model URI: %s", error)
            return
        serving = self.loaded.version if self.loaded else None
        if version is not None and version != serving and version != self._refused_version:
            try:
                self.reload("model-poller", "system", trigger="poll")
            except ReloadRefused:
                pass  # logged, audited, shown on /health; the alias must move on before another try
        since = self._stands_in_since
        if since is None or self.loaded is None:
            return
        with self._lock:
            self._stands_in_since = None
            if self.switch_record is since[0]:
                self.scoring_mode = "model"
        self.metrics.set_scoring_mode(self.scoring_mode)
        log.info("the tracking store can be read again: the %s scores", self.scoring_mode)

    def start_polling(self) -> None:
        seconds = self.settings.model_poll_seconds
        if seconds <= 0 or self._poller is not None:
            return
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(seconds):
                try:
                    self.poll_once()
                except Exception as error:  # noqa: BLE001  (keep polling)
                    log.error("model polling failed: %s", type(error).__name__)

        thread = threading.Thread(target=run, name="jobmatch-model-poller", daemon=True)
        self._poller = (thread, stop)
        thread.start()
        log.info("polling %s every %g s", self.settings.model_uri, seconds)

    def stop_polling(self) -> None:
        if self._poller is None:
            return
        thread, stop = self._poller
        stop.set()
        thread.join(timeout=30)
        self._poller = None
