"""CAP messages received, road networks with their segments, epidemic zones with versions.

Written in the incidents worktree after 0010 (cap_messages refers to incidents),
so it revises 0010; at integration it stays right after 0010.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 09:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cap_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('sender', sa.String(length=200), nullable=False),
    sa.Column('identifier', sa.String(length=200), nullable=False),
    sa.Column('sent', sa.String(length=32), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('area', sa.JSON(), nullable=True),
    sa.Column('xml', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('received_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_cap_messages_context_contexts')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_cap_messages_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cap_messages')),
    sa.UniqueConstraint('context', 'sender', 'identifier', name='uq_cap_messages_identity')
    )
    op.create_table('road_networks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('segment_count', sa.Integer(), nullable=False),
    sa.Column('length_km', sa.Float(), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.Column('imported_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_road_networks_context_contexts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_road_networks'))
    )
    with op.batch_alter_table('road_networks', schema=None) as batch_op:
        batch_op.create_index('ix_road_networks_context', ['context'], unique=False)

    op.create_table('road_segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('road_class', sa.String(length=40), nullable=False),
    sa.Column('speed_kmh', sa.Float(), nullable=False),
    sa.Column('oneway', sa.Integer(), nullable=False),
    sa.Column('coords', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_road_segments_context_contexts')),
    sa.ForeignKeyConstraint(['network_id'], ['road_networks.id'], name=op.f('fk_road_segments_network_id_road_networks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_road_segments'))
    )
    with op.batch_alter_table('road_segments', schema=None) as batch_op:
        batch_op.create_index('ix_road_segments_network_id', ['network_id'], unique=False)

    op.create_table('epidemic_zones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('disease', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('case_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_epidemic_zones_context_contexts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_epidemic_zones'))
    )
    with op.batch_alter_table('epidemic_zones', schema=None) as batch_op:
        batch_op.create_index('ix_epidemic_zones_context_disease', ['context', 'disease'], unique=False)

    op.create_table('epidemic_zone_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('rule', sa.JSON(), nullable=False),
    sa.Column('cases', sa.JSON(), nullable=False),
    sa.Column('point_geojson', sa.Text(), nullable=False),
    sa.Column('zone_geojson', sa.Text(), nullable=False),
    sa.Column('point_place_ids', sa.JSON(), nullable=False),
    sa.Column('zone_place_ids', sa.JSON(), nullable=False),
    sa.Column('point_facility_ids', sa.JSON(), nullable=False),
    sa.Column('zone_facility_ids', sa.JSON(), nullable=False),
    sa.Column('point_population', sa.Integer(), nullable=False),
    sa.Column('zone_population', sa.Integer(), nullable=False),
    sa.Column('point_area_km2', sa.Float(), nullable=False),
    sa.Column('zone_area_km2', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_epidemic_zone_versions_context_contexts')),
    sa.ForeignKeyConstraint(['zone_id'], ['epidemic_zones.id'], name=op.f('fk_epidemic_zone_versions_zone_id_epidemic_zones'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_epidemic_zone_versions')),
    sa.UniqueConstraint('zone_id', 'version', name='uq_epidemic_zone_versions')
    )


def downgrade() -> None:
    op.drop_table('epidemic_zone_versions')
    with op.batch_alter_table('epidemic_zones', schema=None) as batch_op:
        batch_op.drop_index('ix_epidemic_zones_context_disease')
    op.drop_table('epidemic_zones')
    with op.batch_alter_table('road_segments', schema=None) as batch_op:
        batch_op.drop_index('ix_road_segments_network_id')
    op.drop_table('road_segments')
    with op.batch_alter_table('road_networks', schema=None) as batch_op:
        batch_op.drop_index('ix_road_networks_context')
    op.drop_table('road_networks')
    op.drop_table('cap_messages')
