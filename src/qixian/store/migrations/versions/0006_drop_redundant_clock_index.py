"""Clocks: drop the index on case_id alone. The identity constraint (case_id, rule_id, person, number) already
serves every lookup by case, and each extra index is written for every replayed clock.

Revision ID: 0006
Revises: 0005
"""

from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_clocks_case_id', table_name='clocks')


def downgrade() -> None:
    op.create_index('ix_clocks_case_id', 'clocks', ['case_id'], unique=False)
