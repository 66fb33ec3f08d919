"""Durable jobs: rows in the database are the queue; a local pool or Celery workers run them."""
