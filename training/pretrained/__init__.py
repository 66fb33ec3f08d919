"""Pretrained encoders read from registry packages (no hub downloads)."""
