"""The database store: SQLAlchemy models (`models`, on the shared `base`), Alembic migrations
(`schema`, `migrations`), dataset load and export and the served records (`contract`), and one
room per area of the record, each a set of functions over the caller's Session (they flush, never
commit):

- `shortlists`: shortlists as served, and the reads around them (latest, recent, live suggestions);
- `decisions`: the adviser's decisions and the person's answers (append-only);
- `plans`: inclusion plans, their revisions and approvals;
- `placements`: placements and their events; `followups`: their follow-ups;
- `audit`: the audit trail and its retention;
- `outcomes`: the outcomes the record implies, for training;
- `records`: one contract record at a time (a person's adviser, a workplace's employer);
- `rights`: the person's rights (access, erasure, the erasure register, pseudonyms);
- `changes`: the change log of persons and workplaces, so every worker sees live edits;
- `capacity`: a workplace's free slots, taken and given back by placement events;
- `presentations`: persons presented to workplaces;
- `local_fields`: store-only fields (a person's display name, a workplace's job specialist);
- `values`: the small checks the rooms share.

No module outside `matching/store/` imports the models: it asks these rooms.

SQLite in `data/jobmatch.db` is the embedded default; PostgreSQL works through a database URL
(`JOBMATCH_DATABASE_URL` or `--database-url`).
"""
