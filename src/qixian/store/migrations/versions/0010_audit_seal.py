"""The delivery log records the hash of the text each attempt sent, and how each row's link was made (seal): rows
already there keep their hashes and are marked "" (sha256 without the text), so they still verify.

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN, not batch mode: rebuilding the table on SQLite would lose its append-only triggers
    op.add_column('deliveries', sa.Column('text_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))
    op.add_column('deliveries', sa.Column('seal', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False, server_default=''))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite 3.35 and later) for the same reason
    op.execute("ALTER TABLE deliveries DROP COLUMN seal")
    op.execute("ALTER TABLE deliveries DROP COLUMN text_hash")
