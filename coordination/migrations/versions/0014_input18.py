"""Stock import keys (the same file twice is "already imported") and import progress.

Revision ID: 0014_input18
Revises: 0014_vocab14
Create Date: 2026-12-02 15:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014_input18'
down_revision = '0014_vocab14'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'stock_imports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('context', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('actor_name', sa.String(length=120), nullable=False),
        sa.Column('imported_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['context'], ['contexts.name']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key', name='uq_stock_imports_key'),
    )


    op.create_table(
        'stock_import_progress',
        sa.Column('job', sa.String(length=40), nullable=False),
        sa.Column('context', sa.String(length=64), nullable=False),
        sa.Column('phase', sa.String(length=16), nullable=False),
        sa.Column('rows_total', sa.Integer(), nullable=False),
        sa.Column('rows_done', sa.Integer(), nullable=False),
        sa.Column('errors', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['context'], ['contexts.name']),
        sa.PrimaryKeyConstraint('job'),
    )


def downgrade() -> None:
    op.drop_table('stock_import_progress')
    op.drop_table('stock_imports')
