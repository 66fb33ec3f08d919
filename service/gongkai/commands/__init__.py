"""CLI subcommands: each module here defines ``register(subparsers)``; ``gongkai.cli`` finds them all.

A stage that brings a command (evaluate, serve, worker, keys …) adds a module here and touches
nothing else.
"""
