"""Request and response models of the JSON API, in one place, by area: `common` (errors, the
model in service, health), `shortlists`, `review`, `plans` (plans, placements, follow-ups),
`employer`, `model_ops` and `rights`. Import a model from its area's module."""
