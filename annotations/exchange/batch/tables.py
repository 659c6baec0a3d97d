"""The table of files imported whole (`annotations.exchange.batch.files` explains it).

It lives apart from the code that fills it so that the models (`annotations.models`) know the
table without loading the exchange formats and the libraries they read and write with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from annotations.db import Base, UTCDateTime, utcnow


class ImportedFile(Base):
    __tablename__ = "imported_files"
    __table_args__ = (
        Index("ix_imported_files_sha256_fingerprint", "sha256", "fingerprint", unique=True),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    features: Mapped[int] = mapped_column(Integer)
    #: the import report's "source" summary and label field, as the plan gave them
    summary_json: Mapped[str] = mapped_column(Text)
    #: the import keys of all its features, as 32-byte digests one after another
    keys: Mapped[bytes] = mapped_column(LargeBinary)
    imported_by: Mapped[str] = mapped_column(String(80))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
