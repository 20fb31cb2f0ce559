"""The page's labels for the plan form's own problems, in Norwegian bokmål and English; merged into
`serving.web.i18n.LABELS`. (The drafted plan texts are `matching.plain.plan_texts`; the API's
refusals in Norwegian are `serving.web.messages`.)"""

from __future__ import annotations

from matching.plain import Lang

NORSK_LABELS: dict[str, dict[Lang, str]] = {
    "must_be_number": {
        "no": "«{field}» må være et tall, ikke {value}.",
        "en": "{field}: must be a number, got {value}",
    },
    "must_be_finite": {"no": "«{field}» må være et endelig tall.", "en": "{field}: must be a finite number"},
    "stale_revision": {
        "no": "Planen er nå i versjon {revision}; endringene dine ble ikke lagret.",
        "en": "revision: the plan is now at revision {revision}; your changes were not saved",
    },
}
