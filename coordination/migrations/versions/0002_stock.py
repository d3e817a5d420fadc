"""Emergency stockpiles: depots, items, lots, the append-only ledger, balances,
transfers, reserve targets, reservations and requests.

Touches no table of 0003 (facilities and units), so either may come first.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 07:47:54.086087
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stock_depots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('contact_name', sa.String(length=120), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=False),
    sa.Column('area_code', sa.String(length=12), nullable=True),
    sa.ForeignKeyConstraint(['area_code'], ['admin_areas.code'], name=op.f('fk_stock_depots_area_code_admin_areas')),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_stock_depots_context_contexts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_depots')),
    sa.UniqueConstraint('context', 'code', name='uq_stock_depots_context_code')
    )
    op.create_table('stock_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('pack_size', sa.Integer(), nullable=False),
    sa.Column('shelf_life_days', sa.Integer(), nullable=True),
    sa.Column('critical', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_stock_items_context_contexts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_items')),
    sa.UniqueConstraint('context', 'code', name='uq_stock_items_context_code')
    )
    op.create_table('stock_lots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('lot_number', sa.String(length=60), nullable=False),
    sa.Column('expiry', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_stock_lots_context_contexts')),
    sa.ForeignKeyConstraint(['item_id'], ['stock_items.id'], name=op.f('fk_stock_lots_item_id_stock_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_lots')),
    sa.UniqueConstraint('item_id', 'lot_number', name='uq_stock_lots_item_lot')
    )
    op.create_table('stock_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('destination_kind', sa.String(length=24), nullable=False),
    sa.Column('destination_ref', sa.String(length=120), nullable=False),
    sa.Column('depot_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('requester_kind', sa.String(length=16), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=True),
    sa.Column('requester_name', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_stock_requests_context_contexts')),
    sa.ForeignKeyConstraint(['depot_id'], ['stock_depots.id'], name=op.f('fk_stock_requests_depot_id_stock_depots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_requests'))
    )
    with op.batch_alter_table('stock_requests', schema=None) as batch_op:
        batch_op.create_index('ix_stock_requests_context_status', ['context', 'status'], unique=False)

    op.create_table('stock_reservations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('depot_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('incident_ref', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_stock_reservations_context_contexts')),
    sa.ForeignKeyConstraint(['depot_id'], ['stock_depots.id'], name=op.f('fk_stock_reservations_depot_id_stock_depots')),
    sa.ForeignKeyConstraint(['item_id'], ['stock_items.id'], name=op.f('fk_stock_reservations_item_id_stock_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_reservations'))
    )
    with op.batch_alter_table('stock_reservations', schema=None) as batch_op:
        batch_op.create_index('ix_stock_reservations_active', ['context', 'status', 'depot_id', 'item_id'], unique=False)

    op.create_table('stock_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('depot_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=4), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=True),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_stock_targets_context_contexts')),
    sa.ForeignKeyConstraint(['depot_id'], ['stock_depots.id'], name=op.f('fk_stock_targets_depot_id_stock_depots')),
    sa.ForeignKeyConstraint(['item_id'], ['stock_items.id'], name=op.f('fk_stock_targets_item_id_stock_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_targets')),
    sa.UniqueConstraint('context', 'depot_id', 'item_id', 'level', name='uq_stock_targets_context_depot_item_level')
    )
    op.create_table('stock_transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('from_depot_id', sa.Integer(), nullable=False),
    sa.Column('to_depot_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_stock_transfers_context_contexts')),
    sa.ForeignKeyConstraint(['from_depot_id'], ['stock_depots.id'], name=op.f('fk_stock_transfers_from_depot_id_stock_depots')),
    sa.ForeignKeyConstraint(['item_id'], ['stock_items.id'], name=op.f('fk_stock_transfers_item_id_stock_items')),
    sa.ForeignKeyConstraint(['to_depot_id'], ['stock_depots.id'], name=op.f('fk_stock_transfers_to_depot_id_stock_depots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_transfers'))
    )
    with op.batch_alter_table('stock_transfers', schema=None) as batch_op:
        batch_op.create_index('ix_stock_transfers_status', ['context', 'status', 'to_depot_id'], unique=False)

    op.create_table('stock_balances',
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('depot_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_stock_balances_context_contexts')),
    sa.ForeignKeyConstraint(['depot_id'], ['stock_depots.id'], name=op.f('fk_stock_balances_depot_id_stock_depots')),
    sa.ForeignKeyConstraint(['item_id'], ['stock_items.id'], name=op.f('fk_stock_balances_item_id_stock_items')),
    sa.ForeignKeyConstraint(['lot_id'], ['stock_lots.id'], name=op.f('fk_stock_balances_lot_id_stock_lots')),
    sa.PrimaryKeyConstraint('context', 'depot_id', 'item_id', 'lot_id', name=op.f('pk_stock_balances'))
    )
    with op.batch_alter_table('stock_balances', schema=None) as batch_op:
        batch_op.create_index('ix_stock_balances_depot_item', ['context', 'depot_id', 'item_id'], unique=False)
        batch_op.create_index('ix_stock_balances_item', ['context', 'item_id'], unique=False)

    op.create_table('stock_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('depot_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('balance_after', sa.BigInteger(), nullable=False),
    sa.Column('counted', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=True),
    sa.Column('destination_kind', sa.String(length=24), nullable=True),
    sa.Column('destination_ref', sa.String(length=120), nullable=True),
    sa.Column('transfer_id', sa.Integer(), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=120), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['context'], ['contexts.name'], name=op.f('fk_stock_ledger_context_contexts')),
    sa.ForeignKeyConstraint(['depot_id'], ['stock_depots.id'], name=op.f('fk_stock_ledger_depot_id_stock_depots')),
    sa.ForeignKeyConstraint(['item_id'], ['stock_items.id'], name=op.f('fk_stock_ledger_item_id_stock_items')),
    sa.ForeignKeyConstraint(['lot_id'], ['stock_lots.id'], name=op.f('fk_stock_ledger_lot_id_stock_lots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_ledger'))
    )
    with op.batch_alter_table('stock_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_stock_ledger_burn', ['context', 'kind', 'occurred_at', 'depot_id', 'item_id', 'quantity'], unique=False)
        batch_op.create_index('ix_stock_ledger_card', ['context', 'depot_id', 'item_id', 'id'], unique=False)

    op.create_table('stock_request_lines',
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('requested', sa.BigInteger(), nullable=False),
    sa.Column('approved', sa.BigInteger(), nullable=True),
    sa.Column('shipped', sa.BigInteger(), nullable=True),
    sa.Column('received', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['stock_items.id'], name=op.f('fk_stock_request_lines_item_id_stock_items')),
    sa.ForeignKeyConstraint(['request_id'], ['stock_requests.id'], name=op.f('fk_stock_request_lines_request_id_stock_requests')),
    sa.PrimaryKeyConstraint('request_id', 'item_id', name=op.f('pk_stock_request_lines'))
    )
    op.create_table('stock_transfer_lines',
    sa.Column('transfer_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['lot_id'], ['stock_lots.id'], name=op.f('fk_stock_transfer_lines_lot_id_stock_lots')),
    sa.ForeignKeyConstraint(['transfer_id'], ['stock_transfers.id'], name=op.f('fk_stock_transfer_lines_transfer_id_stock_transfers')),
    sa.PrimaryKeyConstraint('transfer_id', 'lot_id', name=op.f('pk_stock_transfer_lines'))
    )


def downgrade() -> None:
    op.drop_table('stock_transfer_lines')
    op.drop_table('stock_request_lines')
    with op.batch_alter_table('stock_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_ledger_card')
        batch_op.drop_index('ix_stock_ledger_burn')

    op.drop_table('stock_ledger')
    with op.batch_alter_table('stock_balances', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_balances_item')
        batch_op.drop_index('ix_stock_balances_depot_item')

    op.drop_table('stock_balances')
    with op.batch_alter_table('stock_transfers', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_transfers_status')

    op.drop_table('stock_transfers')
    op.drop_table('stock_targets')
    with op.batch_alter_table('stock_reservations', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_reservations_active')

    op.drop_table('stock_reservations')
    with op.batch_alter_table('stock_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_requests_context_status')

    op.drop_table('stock_requests')
    op.drop_table('stock_lots')
    op.drop_table('stock_items')
    op.drop_table('stock_depots')
