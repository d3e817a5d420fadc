"""Drills: runs (each owns a drill context), injects, observations, evaluations, improvements.

Revision ID: 0012
Revises: 0002
Create Date: 2026-11-30 09:41:35.273324
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('drill_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('scenario_id', sa.String(length=80), nullable=False),
    sa.Column('scenario_version', sa.String(length=40), nullable=False),
    sa.Column('scenario_hash', sa.String(length=64), nullable=False),
    sa.Column('scenario_file', sa.String(length=300), nullable=False),
    sa.Column('scenario', sa.JSON(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('speed', sa.Float(), nullable=False),
    sa.Column('sim_start', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('sim_ended_at', sa.DateTime(), nullable=True),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('seeded', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_drill_runs_context_contexts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drill_runs')),
    sa.UniqueConstraint('context', name=op.f('uq_drill_runs_context'))
    )
    op.create_table('drill_evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=80), nullable=False),
    sa.Column('rating', sa.String(length=1), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=120), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['drill_runs.id'], name=op.f('fk_drill_evaluations_run_id_drill_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drill_evaluations'))
    )
    op.create_table('drill_improvements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('issue', sa.Text(), nullable=False),
    sa.Column('corrective_action', sa.Text(), nullable=False),
    sa.Column('capability_element', sa.String(length=20), nullable=False),
    sa.Column('agency', sa.String(length=120), nullable=False),
    sa.Column('owner', sa.String(length=120), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['drill_runs.id'], name=op.f('fk_drill_improvements_run_id_drill_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drill_improvements'))
    )
    op.create_table('drill_injects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('due_sim', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('fired_sim', sa.DateTime(), nullable=True),
    sa.Column('fired_real', sa.DateTime(), nullable=True),
    sa.Column('early', sa.Boolean(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['drill_runs.id'], name=op.f('fk_drill_injects_run_id_drill_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drill_injects'))
    )
    with op.batch_alter_table('drill_injects', schema=None) as batch_op:
        batch_op.create_index('ix_drill_injects_due', ['status', 'due_sim'], unique=False)

    op.create_table('drill_observations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('at_sim', sa.DateTime(), nullable=False),
    sa.Column('player', sa.String(length=120), nullable=False),
    sa.Column('inject_number', sa.String(length=20), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['drill_runs.id'], name=op.f('fk_drill_observations_run_id_drill_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drill_observations'))
    )


def downgrade() -> None:
    op.drop_table('drill_observations')
    with op.batch_alter_table('drill_injects', schema=None) as batch_op:
        batch_op.drop_index('ix_drill_injects_due')

    op.drop_table('drill_injects')
    op.drop_table('drill_improvements')
    op.drop_table('drill_evaluations')
    op.drop_table('drill_runs')
