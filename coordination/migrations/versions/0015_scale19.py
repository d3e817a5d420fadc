"""Indexes on the event's subject and actor, so timelines and the audit log cost what their answer costs.

Revision ID: 0015_scale19
Revises: 0014_input18
Create Date: 2026-12-02 21:15:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0015_scale19'
down_revision = '0014_input18'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_events_context_subject', 'events',
                    ['context', 'subject_type', 'subject_id', 'seq'])
    op.create_index('ix_events_actor_name', 'events', ['actor_name'])


def downgrade() -> None:
    op.drop_index('ix_events_actor_name', table_name='events')
    op.drop_index('ix_events_context_subject', table_name='events')
