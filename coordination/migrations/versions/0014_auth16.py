"""Drill participants: who joined which run, so only they act in its context (issue 16).

Revision ID: 0014_auth16
Revises: 0013
Create Date: 2026-12-02 15:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014_auth16'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'drill_participants',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('context', sa.String(length=64), nullable=False),
        sa.Column('actor_kind', sa.String(length=16), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_name', sa.String(length=120), nullable=False),
        sa.Column('display', sa.String(length=120), nullable=False),
        sa.Column('roles', sa.JSON(), nullable=False),
        sa.Column('joined_at', sa.DateTime(), nullable=False),
        sa.Column('left_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['context'], ['contexts.name'],
                                name=op.f('fk_drill_participants_context_contexts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_drill_participants')),
    )
    op.create_index('ix_drill_participants_who', 'drill_participants',
                    ['context', 'actor_kind', 'actor_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_drill_participants_who', table_name='drill_participants')
    op.drop_table('drill_participants')
