"""What makes a stock import idempotent: the key of every file already applied.

A client that timed out on a big import and sends the file again must be told
"already imported", not have the receipt doubled. The key is a digest of what
decides the import's effect (context, kind, default depot, the file's bytes); its
row is written first in the import's own transaction, so of two concurrent imports
of one file the unique index lets exactly one commit.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, UTCDateTime, utcnow


class StockImport(Base):
    __tablename__ = "stock_imports"
    __table_args__ = (UniqueConstraint("key", name="uq_stock_imports_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context: Mapped[str] = mapped_column(ForeignKey("contexts.name"))
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(200))
    rows: Mapped[int] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(120))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def import_key(*, context: str, kind: str, default_depot: str | None, content: bytes) -> str:
    digest = hashlib.sha256()
    for part in (context, kind, default_depot or ""):
        digest.update(part.encode("utf-8") + b"\0")
    digest.update(content)
    return digest.hexdigest()
