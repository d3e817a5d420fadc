"""Incidents with their unit assignments, case locations and close contacts.

Written against 0002 in parallel with other branches; re-chained at integration.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 09:40:04.436807
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=24), nullable=False),
    sa.Column('disease', sa.String(length=32), nullable=True),
    sa.Column('disease_name', sa.String(length=120), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('patients', sa.Integer(), nullable=False),
    sa.Column('reporter', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('external_ref', sa.String(length=200), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('destination_id', sa.Integer(), nullable=True),
    sa.Column('logged_at', sa.DateTime(), nullable=False),
    sa.Column('logged_by', sa.String(length=120), nullable=False),
    sa.Column('found_at', sa.DateTime(), nullable=False),
    sa.Column('reported_up_at', sa.DateTime(), nullable=True),
    sa.Column('diagnosed_at', sa.DateTime(), nullable=True),
    sa.Column('isolated_at', sa.DateTime(), nullable=True),
    sa.Column('treated_at', sa.DateTime(), nullable=True),
    sa.Column('report_deadline', sa.DateTime(), nullable=True),
    sa.Column('deadline_rule', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_incidents_context_contexts')),
    sa.ForeignKeyConstraint(['destination_id'], ['facilities.id'], name=op.f('fk_incidents_destination_id_facilities'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_context_external_ref', ['context', 'external_ref'], unique=False)
        batch_op.create_index('ix_incidents_context_status', ['context', 'status'], unique=False)

    op.create_table('close_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('id_number', sa.String(length=40), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('last_exposure', sa.DateTime(), nullable=False),
    sa.Column('observation_end', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('isolation_id', sa.Integer(), nullable=True),
    sa.Column('isolated_at', sa.DateTime(), nullable=True),
    sa.Column('released_at', sa.DateTime(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_close_contacts_context_contexts')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_close_contacts_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['isolation_id'], ['facilities.id'], name=op.f('fk_close_contacts_isolation_id_facilities'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_close_contacts'))
    )
    with op.batch_alter_table('close_contacts', schema=None) as batch_op:
        batch_op.create_index('ix_close_contacts_incident_id', ['incident_id'], unique=False)

    op.create_table('incident_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('confirmed', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('recorded_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_incident_cases_context_contexts')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_cases_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_cases'))
    )
    with op.batch_alter_table('incident_cases', schema=None) as batch_op:
        batch_op.create_index('ix_incident_cases_incident_id', ['incident_id'], unique=False)

    op.create_table('incident_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('eta_seconds', sa.Float(), nullable=True),
    sa.Column('dispatched_at', sa.DateTime(), nullable=False),
    sa.Column('dispatched_by', sa.String(length=120), nullable=False),
    sa.Column('released_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_incident_units_context_contexts')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_units_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_incident_units_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_units'))
    )
    with op.batch_alter_table('incident_units', schema=None) as batch_op:
        batch_op.create_index('ix_incident_units_incident_id', ['incident_id'], unique=False)
        batch_op.create_index('ix_incident_units_unit_id_active', ['unit_id', 'active'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('incident_units', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_units_unit_id_active')
        batch_op.drop_index('ix_incident_units_incident_id')

    op.drop_table('incident_units')
    with op.batch_alter_table('incident_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_cases_incident_id')

    op.drop_table('incident_cases')
    with op.batch_alter_table('close_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_close_contacts_incident_id')

    op.drop_table('close_contacts')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_context_status')
        batch_op.drop_index('ix_incidents_context_external_ref')

    op.drop_table('incidents')
