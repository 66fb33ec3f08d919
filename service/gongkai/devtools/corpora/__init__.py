"""Corpora for Gongkai: a renderer for synthetic reports and hand-checked truth for real ones."""
