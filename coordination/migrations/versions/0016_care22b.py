"""Care capabilities of facilities, the patient's condition on an incident, MCI patients.

Revision ID: 0016_care22b
Revises: 0016_input18b
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016_care22b'
down_revision = '0016_input18b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('facilities') as batch:
        batch.add_column(sa.Column('capabilities', sa.JSON(), nullable=False,
                                   server_default=sa.text("'{}'")))
        batch.add_column(sa.Column('capabilities_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('condition', sa.String(length=24), nullable=True))
    op.create_table(
        'incident_patients',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('context', sa.String(length=64), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('tag', sa.String(length=40), nullable=False),
        sa.Column('triage', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('id_number', sa.String(length=40), nullable=False),
        sa.Column('sex', sa.String(length=8), nullable=False),
        sa.Column('age', sa.Integer(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('destination_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('registered_at', sa.DateTime(), nullable=False),
        sa.Column('registered_by', sa.String(length=120), nullable=False),
        sa.Column('status_at', sa.DateTime(), nullable=False),
        sa.Column('handed_over_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['context'], ['contexts.name']),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['destination_id'], ['facilities.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('incident_id', 'tag', name='uq_incident_patients_tag'),
    )
    op.create_index('ix_incident_patients_incident_id', 'incident_patients', ['incident_id'])
    op.create_index('ix_incident_patients_destination', 'incident_patients',
                    ['destination_id', 'status'])


    op.create_table(
        'sms_inbound',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('context', sa.String(length=64), nullable=False),
        sa.Column('message_id', sa.String(length=120), nullable=False),
        sa.Column('sender', sa.String(length=40), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.String(length=40), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('context', 'message_id', name='uq_sms_inbound_message'),
    )


def downgrade() -> None:
    op.drop_table('sms_inbound')
    op.drop_index('ix_incident_patients_destination', table_name='incident_patients')
    op.drop_index('ix_incident_patients_incident_id', table_name='incident_patients')
    op.drop_table('incident_patients')
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('condition')
    with op.batch_alter_table('facilities') as batch:
        batch.drop_column('capabilities_at')
        batch.drop_column('capabilities')
