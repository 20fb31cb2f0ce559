"""The database store: SQLAlchemy models, Alembic migrations, dataset load and export, and the
repository functions behind shortlists, decisions and the person's answers.

SQLite in `data/jobmatch.db` is the embedded default; PostgreSQL works through a database URL
(`JOBMATCH_DATABASE_URL` or `--database-url`).
"""
