"""document_grants: a key that uploads bytes another key uploaded first gets access to that document.

One row per (document, key), with the filename that key sent and when. An uploader key with scope
"own" sees the documents it owns and those it holds a grant for.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A new table only: no batch copy of documents (which jobs, results and corrections reference).
    op.create_table(
        "document_grants",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("document_id", sa.String(32), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("key_id", sa.String(16), sa.ForeignKey("api_keys.id"), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("document_id", "key_id", name="uq_document_grants_document_key"),
    )
    op.create_index("ix_document_grants_document_id", "document_grants", ["document_id"])
    op.create_index("ix_document_grants_key_id", "document_grants", ["key_id"])


def downgrade() -> None:
    op.drop_index("ix_document_grants_key_id", table_name="document_grants")
    op.drop_index("ix_document_grants_document_id", table_name="document_grants")
    op.drop_table("document_grants")
