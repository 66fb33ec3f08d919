"""The review workspace: browser sessions, and a document's review state and cells to review.

- web_sessions: a session made from an API key (only the token's hash is stored);
- documents.cells_to_review: how many cells of the served result wait for a person (kept like
  failing_checks); documents done before this revision get it on their next correction or re-run;
- documents.reviewed_by / reviewed_at: who marked the document reviewed, and when.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(16), sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_web_sessions_key_id", "web_sessions", ["key_id"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])
    if op.get_bind().dialect.name == "sqlite":
        # In place: a batch copy of documents would drop a table that jobs and results reference.
        op.execute("ALTER TABLE documents ADD COLUMN cells_to_review INTEGER")
        op.execute("ALTER TABLE documents ADD COLUMN reviewed_by VARCHAR(16) REFERENCES api_keys (id)")
        op.execute("ALTER TABLE documents ADD COLUMN reviewed_at DATETIME")
    else:
        op.add_column("documents", sa.Column("cells_to_review", sa.Integer(), nullable=True))
        op.add_column(
            "documents",
            sa.Column(
                "reviewed_by",
                sa.String(16),
                sa.ForeignKey("api_keys.id", name="fk_documents_reviewed_by"),
                nullable=True,
            ),
        )
        op.add_column("documents", sa.Column("reviewed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for column in ("reviewed_at", "reviewed_by", "cells_to_review"):
            op.execute(f"ALTER TABLE documents DROP COLUMN {column}")
    else:
        op.drop_constraint("fk_documents_reviewed_by", "documents", type_="foreignkey")
        for column in ("reviewed_at", "reviewed_by", "cells_to_review"):
            op.drop_column("documents", column)
    op.drop_index("ix_web_sessions_expires_at", table_name="web_sessions")
    op.drop_index("ix_web_sessions_key_id", table_name="web_sessions")
    op.drop_table("web_sessions")
