"""documents.owner_key_id and api_keys.scope: an uploader key with scope "own" sees only its documents.

Existing uploader keys get "own", other keys "all" (reviewers and admins see every document anyway).
Existing documents keep owner_key_id NULL; such a row belongs to the key in uploaded_by.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite adds the columns in place. A batch copy (what a foreign key in batch_alter_table means there)
    # would drop documents, which the jobs, results and corrections rows reference: foreign keys are on.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE documents ADD COLUMN owner_key_id VARCHAR(16) REFERENCES api_keys (id)")
    else:
        op.add_column(
            "documents",
            sa.Column(
                "owner_key_id",
                sa.String(16),
                sa.ForeignKey("api_keys.id", name="fk_documents_owner_key_id"),
                nullable=True,
            ),
        )
    op.create_index("ix_documents_owner_key_id", "documents", ["owner_key_id"])
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("scope", sa.String(8), nullable=False, server_default="own"))
    op.execute("UPDATE api_keys SET scope = 'all' WHERE role <> 'uploader'")


def downgrade() -> None:
    op.drop_index("ix_documents_owner_key_id", table_name="documents")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite (3.35+) drops a plain column in place; a batch copy would drop referenced tables.
        op.execute("ALTER TABLE api_keys DROP COLUMN scope")
        op.execute("ALTER TABLE documents DROP COLUMN owner_key_id")
    else:
        op.drop_constraint("fk_documents_owner_key_id", "documents", type_="foreignkey")
        op.drop_column("documents", "owner_key_id")
        op.drop_column("api_keys", "scope")
