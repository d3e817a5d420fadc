"""Facilities with capacity reports, units with status history and position
reports, populated places.

Written against 0001 while 0002_stock was written in parallel; at integration
this revision is re-chained after 0002 (it touches none of stock's tables).

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23 07:22:57.123716
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('facilities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('area_code', sa.String(length=12), nullable=True),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('contact_name', sa.String(length=120), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('last_report_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['admin_areas.code'], name=op.f('fk_facilities_area_code_admin_areas')),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_facilities_context_contexts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_facilities')),
    sa.UniqueConstraint('context', 'code', name='uq_facilities_context_code')
    )
    with op.batch_alter_table('facilities', schema=None) as batch_op:
        batch_op.create_index('ix_facilities_context_kind', ['context', 'kind'], unique=False)

    op.create_table('populated_places',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=12), nullable=True),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('geometry', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['area_code'], ['admin_areas.code'], name=op.f('fk_populated_places_area_code_admin_areas')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_populated_places')),
    sa.UniqueConstraint('code', name=op.f('uq_populated_places_code'))
    )
    with op.batch_alter_table('populated_places', schema=None) as batch_op:
        batch_op.create_index('ix_populated_places_area_code', ['area_code'], unique=False)

    op.create_table('capacity_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reported', sa.JSON(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('reporter_kind', sa.String(length=16), nullable=False),
    sa.Column('reporter_name', sa.String(length=120), nullable=False),
    sa.Column('reported_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_capacity_reports_context_contexts')),
    sa.ForeignKeyConstraint(['facility_id'], ['facilities.id'], name=op.f('fk_capacity_reports_facility_id_facilities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_capacity_reports'))
    )
    with op.batch_alter_table('capacity_reports', schema=None) as batch_op:
        batch_op.create_index('ix_capacity_reports_facility_id_at', ['facility_id', 'reported_at'], unique=False)

    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('call_sign', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('crew', sa.JSON(), nullable=False),
    sa.Column('negative_pressure', sa.Boolean(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('status_at', sa.DateTime(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('position_at', sa.DateTime(), nullable=True),
    sa.Column('speed_kmh', sa.Float(), nullable=True),
    sa.Column('heading', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_units_context_contexts')),
    sa.ForeignKeyConstraint(['station_id'], ['facilities.id'], name=op.f('fk_units_station_id_facilities'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('context', 'call_sign', name='uq_units_context_call_sign')
    )
    op.create_table('position_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('speed_kmh', sa.Float(), nullable=True),
    sa.Column('heading', sa.Float(), nullable=True),
    sa.Column('reported_at', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_position_reports_context_contexts')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_position_reports_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_position_reports'))
    )
    with op.batch_alter_table('position_reports', schema=None) as batch_op:
        batch_op.create_index('ix_position_reports_unit_id_reported_at', ['unit_id', 'reported_at'], unique=False)

    op.create_table('unit_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('previous', sa.String(length=24), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('actor_name', sa.String(length=120), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_unit_status_changes_context_contexts')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_status_changes_unit_id_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_status_changes'))
    )
    with op.batch_alter_table('unit_status_changes', schema=None) as batch_op:
        batch_op.create_index('ix_unit_status_changes_unit_id_at', ['unit_id', 'at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('unit_status_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_unit_status_changes_unit_id_at')

    op.drop_table('unit_status_changes')
    with op.batch_alter_table('position_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_position_reports_unit_id_reported_at')

    op.drop_table('position_reports')
    op.drop_table('units')
    with op.batch_alter_table('capacity_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_capacity_reports_facility_id_at')

    op.drop_table('capacity_reports')
    with op.batch_alter_table('populated_places', schema=None) as batch_op:
        batch_op.drop_index('ix_populated_places_area_code')

    op.drop_table('populated_places')
    with op.batch_alter_table('facilities', schema=None) as batch_op:
        batch_op.drop_index('ix_facilities_context_kind')

    op.drop_table('facilities')
