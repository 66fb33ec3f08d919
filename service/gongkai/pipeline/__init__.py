"""gongkai.pipeline."""
