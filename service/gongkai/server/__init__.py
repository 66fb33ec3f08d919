"""The service around the pipeline: api/ (FastAPI), jobs/ (local pool, Celery), storage/ (SQLAlchemy +
Alembic, content-addressed files) and review/ (reviewer corrections and their re-checks)."""
