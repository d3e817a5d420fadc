"""Contingency-plan activations and the tasks they created (issue 5).

Touches no other domain's table (the roster task is referenced by id only), so
the integrator may chain it anywhere after 0002; on the shared roster/plans
branch it follows the roster's 0008 so the branch has one head.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plan_activations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('plan_id', sa.String(length=64), nullable=False),
    sa.Column('plan_version', sa.String(length=40), nullable=False),
    sa.Column('file_hash', sa.String(length=64), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('level', sa.String(length=4), nullable=False),
    sa.Column('subject_kind', sa.String(length=16), nullable=False),
    sa.Column('subject_ref', sa.String(length=120), nullable=False),
    sa.Column('active_key', sa.String(length=140), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('level_history', sa.JSON(), nullable=False),
    sa.Column('shortfalls', sa.JSON(), nullable=False),
    sa.Column('activated_at', sa.DateTime(), nullable=False),
    sa.Column('activated_by', sa.String(length=120), nullable=False),
    sa.Column('stood_down_at', sa.DateTime(), nullable=True),
    sa.Column('stood_down_by', sa.String(length=120), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_plan_activations_context_contexts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_activations')),
    sa.UniqueConstraint('context', 'plan_id', 'active_key', name='uq_plan_activations_context_plan_id')
    )
    op.create_index('ix_plan_activations_context_status', 'plan_activations', ['context', 'status'], unique=False)
    op.create_table('plan_activation_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('activation_id', sa.Integer(), nullable=False),
    sa.Column('plan_task_id', sa.String(length=64), nullable=False),
    sa.Column('phase_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('owner_role', sa.String(length=64), nullable=False),
    sa.Column('agency', sa.String(length=40), nullable=False),
    sa.Column('title_zh', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=False),
    sa.Column('added_at_level', sa.String(length=4), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('ack_due_at', sa.DateTime(), nullable=False),
    sa.Column('roster_task_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['activation_id'], ['plan_activations.id'], name=op.f('fk_plan_activation_tasks_activation_id_plan_activations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_plan_activation_tasks_context_contexts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_activation_tasks')),
    sa.UniqueConstraint('activation_id', 'plan_task_id', name='uq_plan_activation_tasks_activation_id')
    )


def downgrade() -> None:
    op.drop_table('plan_activation_tasks')
    op.drop_index('ix_plan_activations_context_status', table_name='plan_activations')
    op.drop_table('plan_activations')
