"""Tables of clients: the pseudonymous client and their own data key (DATA-2, DATA-4)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Boolean, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ktt_common.db import UTCDateTime

from ktt_decision.base import Base, Sealable


class Client(Base):
    """A client by pseudonymous id. The hetu is kept only encrypted, found by its keyed hash."""

    __tablename__ = "client"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    hetu_lookup: Mapped[str] = mapped_column(String(64), unique=True)
    hetu_encrypted: Mapped[str] = mapped_column(Text)
    first_name: Mapped[str] = mapped_column(Sealable(200))
    last_name: Mapped[str] = mapped_column(Sealable(200))
    language: Mapped[str] = mapped_column(String(8))
    # Contact data as of the latest push (each decision also keeps its own frozen copy).
    municipality: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(Sealable(40))
    email: Mapped[str | None] = mapped_column(Sealable(200))
    address: Mapped[str | None] = mapped_column(Sealable(300))
    interpreter_needed: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Set when the retention job erased the client's personal data (DATA-2, crypto-shredding).
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)



class ClientKey(Base):
    """A client's own data key, wrapped under the master key derived from PII_KEY (ktt_common.pii).

    The hetu ciphertext is sealed under it. Erasure (retention, DATA-2) sets ``wrapped_key`` to
    NULL: every copy of the ciphertext, in this database and its backups, is then unreadable."""

    __tablename__ = "client_key"

    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"), primary_key=True)
    wrapped_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
