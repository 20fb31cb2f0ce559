"""The texts a drafted inclusion plan carries, in Norwegian bokmål (`no`) and English (`en`): why
its purpose was chosen, what the workplace trains, and the open points; and numbers written as
people write them in each language (decimal comma and "12 %" in Norwegian, "12%" in English).

A plan is stored with its English texts (`matching.drafting` drafts them from the templates here),
so the JSON API and the plans stored before keep their wording. The page shows a stored text in
its own language with `drafted_text`: the text is matched against the English templates and the
numbers it carries are written again in the page's language. A text the adviser wrote themself
matches no template and is shown as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from matching.plain.sentences import Lang, support_text


@dataclass(frozen=True)
class Template:
    """One drafted text per language; `{name}` places a value, `kinds` says how each is written
    ("percent", "decimal" with two digits, or "text")."""

    texts: Mapping[Lang, str]
    kinds: Mapping[str, str]

    def render(self, lang: Lang, **values: float | str) -> str:
        shown = {name: written(values[name], kind, lang) for name, kind in self.kinds.items()}
        return self.texts[lang].format(**shown)

    def pattern(self) -> re.Pattern[str]:
        """The English text as a pattern, each value a named group."""
        parts = re.split(r"\{(\w+)\}", self.texts["en"])
        regex = ""
        for i, part in enumerate(parts):
            if i % 2 == 0:
                regex += re.escape(part)
            else:
                regex += rf"(?P<{part}>-?[0-9.]+%?)" if self.kinds[part] != "text" else rf"(?P<{part}>.+)"
        return re.compile(regex + r"\Z")


PURPOSE_REASONS: dict[str, Template] = {
    "recruitment": Template(
        {
            "en": "the employer has hired many earlier trainees (smoothed rate {hire_rate}) and the fit is good "
            "(tasks covered {coverage}, interest similarity {interest}, no required support missing)",
            "no": "arbeidsgiveren har ansatt mange av dem som har hatt arbeidstrening der før (glattet andel "
            "{hire_rate}), og personen passer godt (oppgavene dekket {coverage}, interesselikhet {interest}, "
            "ingen nødvendig støtte mangler)",
        },
        {"hire_rate": "percent", "coverage": "percent", "interest": "decimal"},
    ),
    "asked_for": Template(
        {
            "en": "the occupation is one the person has asked for",
            "no": "yrket er et av dem personen selv har ønsket seg",
        },
        {},
    ),
    "new_occupation": Template(
        {
            "en": "the occupation is new to the person's stated goals: the trial tries it out",
            "no": "yrket er nytt sammenlignet med målene personen har oppgitt: arbeidstreningen prøver det ut",
        },
        {},
    ),
}
TRAINING = Template(
    {
        "en": "train the person in the tasks of the job ({title})",
        "no": "lære opp personen i arbeidsoppgavene i jobben ({title})",
    },
    {"title": "text"},
)
OPEN_POINTS: dict[str, Template] = {
    "tutor": Template(
        {"en": "the workplace tutor is to be named", "no": "veilederen på arbeidsplassen (fadder) skal navngis"},
        {},
    ),
    "required_unmet": Template(
        {
            "en": "required support the workplace cannot give: {supports}",
            "no": "nødvendig støtte arbeidsplassen ikke kan gi: {supports}",
        },
        {"supports": "text"},
    ),
    "to_arrange": Template(
        {
            "en": "the support system arranges before the trial starts: {supports}",
            "no": "støtteapparatet ordner før arbeidstreningen starter: {supports}",
        },
        {"supports": "text"},
    ),
}


def written(value: float | str, kind: str, lang: Lang) -> str:
    """A value as a drafted text writes it: a share as a percentage, a number with two decimals."""
    if kind == "text":
        return str(value)
    number = float(value)
    if kind == "percent":
        shown = f"{number:.0%}"
        return shown.replace("%", " %") if lang == "no" else shown
    shown = f"{number:.2f}"
    return shown.replace(".", ",") if lang == "no" else shown


def _read(raw: str, kind: str) -> float | str:
    if kind == "text":
        return raw
    if kind == "percent":
        return float(raw.rstrip("%")) / 100
    return float(raw)


def purpose_reason(code: str, lang: Lang = "en", **values: float) -> str:
    """Why the purpose was chosen (`code` one of `PURPOSE_REASONS`)."""
    return PURPOSE_REASONS[code].render(lang, **values)


def training(title: str, lang: Lang = "en") -> str:
    """What the workplace is responsible for training, in the job `title`."""
    return TRAINING.render(lang, title=title)


def open_points(
    tutor_named: bool,
    required_unmet: Iterable[str],
    lang: Lang = "en",
    to_arrange: Iterable[tuple[str, str | None]] = (),
) -> tuple[str, ...]:
    """What must still be settled: the tutor's name, required supports the workplace cannot give
    and no one arranges (`required_unmet`), and the required supports the support system arranges
    before the trial starts (`to_arrange`: each support with its scheme in `lang`, or None). The
    supports are named by their code in English, in plain words in Norwegian."""
    points = []
    if not tutor_named:
        points.append(OPEN_POINTS["tutor"].render(lang))
    required = list(required_unmet)
    if required:
        names = required if lang == "en" else [support_text(s, lang, for_staff=True) for s in required]
        points.append(OPEN_POINTS["required_unmet"].render(lang, supports=", ".join(names)))
    arranging = [
        (s if lang == "en" else support_text(s, lang, for_staff=True)) + (f" ({scheme})" if scheme else "")
        for s, scheme in to_arrange
    ]
    if arranging:
        points.append(OPEN_POINTS["to_arrange"].render(lang, supports="; ".join(arranging)))
    return tuple(points)


def plan_open_points(
    tutor_named: bool,
    unmet: Iterable[Mapping[str, Any]],
    to_arrange: Iterable[str],
    lang: Lang = "en",
    scheme: Callable[[str], str | None] | None = None,
) -> tuple[str, ...]:
    """A plan's open points (`open_points`) from its unmet support needs (as stored: `support`,
    `need`, `arranged_by`, `scheme`) and the supports the support system arranges (`to_arrange`):
    a required need no one arranges stays open as one the workplace cannot give. `scheme` names a
    support's scheme in `lang` (default: the scheme stored with the need)."""
    chosen = set(to_arrange)
    needs = list(unmet)
    required_left = [str(s["support"]) for s in needs if s.get("need") == "required" and s["support"] not in chosen]
    arranging = [
        (str(s["support"]), scheme(str(s["support"])) if scheme is not None else s.get("scheme"))
        for s in needs
        if s["support"] in chosen
    ]
    return open_points(tutor_named, required_left, lang, arranging)


def drafted_text(stored: str, lang: Lang, title: str | None = None) -> str:
    """A stored plan text in `lang` when it is one of the drafted texts (its numbers written again,
    the job's title replaced by `title` when given); any other text as it is."""
    if lang == "en" and title is None:
        return stored
    for template in (*PURPOSE_REASONS.values(), TRAINING):
        found = template.pattern().match(stored.strip())
        if found is None:
            continue
        values = {name: _read(found.group(name), kind) for name, kind in template.kinds.items()}
        if title is not None and "title" in values:
            values["title"] = title
        try:
            return template.render(lang, **values)
        except ValueError:
            return stored
    return stored
