"""Incidents carry the major event and venue they happened at (issue 5, event cover).

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-30 11:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_ref', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('venue_ref', sa.String(length=80), nullable=True))
        batch_op.create_index('ix_incidents_context_event_ref', ['context', 'event_ref'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_context_event_ref')
        batch_op.drop_column('venue_ref')
        batch_op.drop_column('event_ref')
