"""Real published reports: parsers that turn them into specs, and hand-checked truth (truth/)."""
