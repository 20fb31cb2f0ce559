"""The adviser's page and the employer's page, server-rendered (Jinja2, plain forms,
no JavaScript), under `/app`.

Every action calls the same functions as the JSON API, with the logged-in identity, so shortlists,
decisions, plans, revisions, approvals, follow-ups and audit entries are recorded exactly as the
API records them:

| page route | API function it calls |
| --- | --- |
| `POST /app/shortlists` | `serving.api.shortlists.create_shortlist` (`POST /shortlists`) |
| `GET /app/shortlists/{id}` | `serving.api.review.read_shortlist` (`GET /shortlists/{id}`) |
| `POST /app/shortlists/{id}/decisions` | `serving.api.review.record_decisions` |
| `GET /app/plans/{id}` | `serving.api.plans.read_plan` |
| `POST /app/plans/{id}/revisions` | `serving.api.plans.revise_plan` (only the fields changed) |
| `POST /app/plans/{id}/approvals` | `serving.api.plans.approve` (adviser: own, person; employer: employer) |
| `POST /app/shortlists/{id}/answers` | `serving.api.review.record_answers` (the person's own answer) |
| `POST /app/shortlists/{id}/presentations` | `serving.api.presentations.present_person` (`POST /presentations`) |
| `GET /app/plans/{id}` (once agreed) | `serving.api.placements.read_placement` (the placement's timeline) |
| `POST /app/placements/{id}/events` | `serving.api.placements.record_event` (a step, or an assessment) |
| `POST /app/followups` | `serving.api.placements.record_contact` |
| `GET /app` (adviser) | `serving.api.placements.due_follow_ups` for the follow-ups due and overdue |
| `GET /app/persons/{id}` | `serving.api.records.read_candidate` (`GET /candidates/{id}`) |
| `POST /app/persons/{id}` | `serving.api.records.change_candidate` (`PATCH /candidates/{id}`, the fields changed) |
| `POST /app/persons/{id}/occupations` | `serving.api.records.change_candidate` (the wished occupations) |
| `POST /app/persons` | `serving.api.records.create_candidate` (`POST /candidates`) |
| `GET /app/specialist` | `matching.store.local_fields.workplaces_of_specialist` (the job specialist's workplaces) |
| `POST /app/workplaces` | `serving.api.records.create_workplace` (`POST /workplaces`) |
| `POST /app/workplaces/{id}` | `serving.api.records.change_workplace` (`PATCH /workplaces/{id}`; closing it too) |
| `GET /app/workplaces/{id}` | `serving.api.employer.workplace_candidates`, `...presentations.presented_persons` |
| `GET /app/employer` | `serving.api.presentations.presented_persons` (only presented, interested persons; no ranking) |

The rooms: `render` (templates, forms, the logged-in `Page`, score bars, dates), `login` (login
and logout), `adviser` (caseload, shortlists, decisions, follow-ups), `answers` (the person's
answer, presenting them), `plans` (the plan, revisions, approvals), `timeline` (a placement as the
plan page shows it), `placements` (recording a placement's steps and assessments), `employer` (the
employer's page: the persons presented to a workplace and their plans), `profile` (the person's
profile and the "new person" form), `specialist` (the job specialist's workplaces, the reverse
ranking and the persons presented), `fields` (the person's fields and the API's refusals in the
page's words). Login and CSRF: `session`.
Labels: `i18n` and `i18n_profile` (Norwegian by default; `?lang=en` switches and is remembered in a cookie).
"""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from serving.web import adviser, answers, employer, login, placements, plans, profile, specialist
from serving.web.render import STATIC_DIR

router = APIRouter(include_in_schema=False)


@router.get("/")
def to_the_page(request: Request) -> RedirectResponse:
    """A browser at the service's root goes to the page (which asks for a login when needed)."""
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/app{query}", status_code=303)


router.include_router(login.router, prefix="/app")
router.include_router(adviser.router, prefix="/app")
router.include_router(answers.router, prefix="/app")
router.include_router(plans.router, prefix="/app")
router.include_router(placements.router, prefix="/app")
router.include_router(employer.router, prefix="/app")
router.include_router(profile.router, prefix="/app")
router.include_router(specialist.router, prefix="/app")

__all__ = ["STATIC_DIR", "router"]
