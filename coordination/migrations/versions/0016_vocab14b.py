"""Tasks written in both languages keep each in its own column (issue 14).

A plan's task used to be stored as one "中文 / English" title and a details text
whose every line mixed both. The English now has its own columns; each reader
is shown their own language. Existing plan tasks are split at the first
" / " of their title; their details, a free-form checklist text, stay as they
were (they read as before; new activations write both languages apart).

Revision ID: 0016_vocab14b
Revises: 0016_care22b
Create Date: 2026-12-03 06:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016_vocab14b'
down_revision = '0016_care22b'
branch_labels = None
depends_on = None

SEP = " / "


def upgrade() -> None:
    with op.batch_alter_table('roster_tasks') as batch:
        batch.add_column(sa.Column('title_en', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('details_en', sa.Text(), nullable=True))
    tasks = sa.table('roster_tasks', sa.column('id', sa.Integer()),
                     sa.column('title', sa.String()), sa.column('title_en', sa.String()),
                     sa.column('source', sa.String()))
    bind = op.get_bind()
    rows = bind.execute(sa.select(tasks.c.id, tasks.c.title).where(
        tasks.c.source == 'plan', tasks.c.title.like(f'%{SEP}%'))).all()
    for task_id, title in rows:
        zh, en = (part.strip() for part in title.split(SEP, 1))
        if zh and en:
            bind.execute(sa.update(tasks).where(tasks.c.id == task_id)
                         .values(title=zh, title_en=en))


def downgrade() -> None:
    tasks = sa.table('roster_tasks', sa.column('id', sa.Integer()),
                     sa.column('title', sa.String()), sa.column('title_en', sa.String()))
    bind = op.get_bind()
    for task_id, zh, en in bind.execute(sa.select(tasks.c.id, tasks.c.title, tasks.c.title_en)
                                        .where(tasks.c.title_en.is_not(None))).all():
        bind.execute(sa.update(tasks).where(tasks.c.id == task_id)
                     .values(title=f"{zh}{SEP}{en}"[:200]))
    with op.batch_alter_table('roster_tasks') as batch:
        batch.drop_column('details_en')
        batch.drop_column('title_en')
