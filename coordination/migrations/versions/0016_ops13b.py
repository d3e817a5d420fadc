"""English names beside the Chinese ones: facilities, liaison officers, populated places.

A name is kept in the language it was given in (``name``) and, when known, in
English (``name_en``); pages show the reader's half (vocab.localized). Empty for
every existing row, which then shows its one name in both languages.

Revision ID: 0016_ops13b
Revises: 0015_report21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_ops13b"
down_revision = "0015_report21"
branch_labels = None
depends_on = None

TABLES = {"facilities": 200, "roster_officers": 120, "populated_places": 200}


def upgrade() -> None:
    for table, length in TABLES.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("name_en", sa.String(length=length), nullable=False,
                                       server_default=""))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("name_en")
