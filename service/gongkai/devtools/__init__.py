"""Developer tools: evaluation/ (the harness behind every accuracy figure) and corpora/ (the synthetic
report generator and the truth-file model). The runtime (pipeline, server) never imports them; the
generator needs the ``corpus`` extra."""
