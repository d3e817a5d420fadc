"""Alerts of the command room and the alert watcher's cursor (issue 13).

Revision ID: 0014_ops13
Revises: 0014_auth16
Create Date: 2026-12-02 15:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014_ops13'
down_revision = '0014_auth16'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('context', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('key', sa.String(length=160), nullable=False),
        sa.Column('severity', sa.String(length=16), nullable=False),
        sa.Column('title_zh', sa.Text(), nullable=False),
        sa.Column('title_en', sa.Text(), nullable=False),
        sa.Column('subject_type', sa.String(length=32), nullable=True),
        sa.Column('subject_id', sa.String(length=64), nullable=True),
        sa.Column('lon', sa.Float(), nullable=True),
        sa.Column('lat', sa.Float(), nullable=True),
        sa.Column('suggestion', sa.JSON(), nullable=True),
        sa.Column('source_seq', sa.Integer(), nullable=True),
        sa.Column('raised_at', sa.DateTime(), nullable=False),
        sa.Column('raised_by', sa.String(length=120), nullable=False),
        sa.Column('acked_at', sa.DateTime(), nullable=True),
        sa.Column('acked_by', sa.String(length=120), nullable=True),
        sa.Column('acked_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['context'], ['contexts.name']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_alerts_context_key', 'alerts', ['context', 'key'])
    op.create_index('ix_alerts_context_open', 'alerts', ['context', 'acked_at'])
    op.create_table(
        'alert_cursors',
        sa.Column('context', sa.String(length=64), nullable=False),
        sa.Column('last_seq', sa.Integer(), nullable=False),
        sa.Column('swept_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['context'], ['contexts.name']),
        sa.PrimaryKeyConstraint('context'),
    )


def downgrade() -> None:
    op.drop_table('alert_cursors')
    op.drop_index('ix_alerts_context_open', table_name='alerts')
    op.drop_index('ix_alerts_context_key', table_name='alerts')
    op.drop_table('alerts')
