"""Care capabilities of facilities and the patient's condition on an incident.

Revision ID: 0016_care22b
Revises: 0015_report21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016_care22b'
down_revision = '0015_report21'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('facilities') as batch:
        batch.add_column(sa.Column('capabilities', sa.JSON(), nullable=False,
                                   server_default=sa.text("'{}'")))
        batch.add_column(sa.Column('capabilities_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('condition', sa.String(length=24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('condition')
    with op.batch_alter_table('facilities') as batch:
        batch.drop_column('capabilities_at')
        batch.drop_column('capabilities')
