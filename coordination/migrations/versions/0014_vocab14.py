"""Positions with people: the officers who hold an agency's position in turn (issue 14).

Revision ID: 0014_vocab14
Revises: 0014_ops13
Create Date: 2026-12-02 15:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014_vocab14'
down_revision = '0014_ops13'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'roster_position_shifts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('context', sa.String(length=64), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('handover', sa.String(length=5), nullable=False),
        sa.Column('shift_hours', sa.Integer(), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('start_date', sa.Date(), nullable=False),
        sa.Column('end_date', sa.Date(), nullable=True),
        sa.Column('officer_ids', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['roster_agencies.id'],
                                name=op.f('fk_roster_position_shifts_agency_id_roster_agencies')),
        sa.ForeignKeyConstraint(['context'], ['contexts.name'],
                                name=op.f('fk_roster_position_shifts_context_contexts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_position_shifts')),
    )
    op.create_index('ix_roster_position_shifts_agency_position', 'roster_position_shifts',
                    ['agency_id', 'position'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_roster_position_shifts_agency_position',
                  table_name='roster_position_shifts')
    op.drop_table('roster_position_shifts')
