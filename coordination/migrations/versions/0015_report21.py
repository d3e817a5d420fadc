"""Reports upward on an incident (initial / progress / final), versioned.

Revision ID: 0015_report21
Revises: 0014_input18
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015_report21'
down_revision = '0015_scale19'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'incident_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('context', sa.String(length=64), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('body', sa.JSON(), nullable=False),
        sa.Column('supersedes_id', sa.Integer(), nullable=True),
        sa.Column('drafted_at', sa.DateTime(), nullable=False),
        sa.Column('drafted_by', sa.String(length=120), nullable=False),
        sa.Column('reviewed_at', sa.DateTime(), nullable=True),
        sa.Column('reviewed_by', sa.String(length=120), nullable=False),
        sa.Column('issued_at', sa.DateTime(), nullable=True),
        sa.Column('issued_by', sa.String(length=120), nullable=False),
        sa.Column('issued_role', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['context'], ['contexts.name']),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['supersedes_id'], ['incident_reports.id'],
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('incident_id', 'kind', 'number', 'version',
                            name='uq_incident_reports_version'),
    )
    op.create_index('ix_incident_reports_incident_id', 'incident_reports', ['incident_id'])


def downgrade() -> None:
    op.drop_index('ix_incident_reports_incident_id', table_name='incident_reports')
    op.drop_table('incident_reports')
