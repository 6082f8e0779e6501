"""The unit tree: province → phường / xã (/ đặc khu) → Tổ CNSCĐ teams.

Each unit keeps a materialized ``path`` of ancestor ids (``/1/7/31/``) so that "everything
under this unit" is one indexed prefix match on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import utcnow

UNIT_KINDS = ("province", "city", "phuong", "xa", "dac_khu", "team")
COMMUNE_KINDS = ("phuong", "xa", "dac_khu")
UNIT_GROUPS = ("I", "II")


class Unit(db.Model):
    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('province','city','phuong','xa','dac_khu','team')", name="kind"
        ),
        CheckConstraint("unit_group IS NULL OR unit_group IN ('I','II')", name="unit_group"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    # Group I = phường (urban), group II = xã (rural): reports split figures by it.
    unit_group: Mapped[str | None] = mapped_column(String(2))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    path: Mapped[str] = mapped_column(String(400), index=True, default="")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent")

    PREFIXES = {"province": "Tỉnh", "city": "Thành phố", "phuong": "Phường", "xa": "Xã",
                "dac_khu": "Đặc khu", "team": ""}

    @property
    def full_name(self) -> str:
        """Official style: the kind's prefix + the bare name ("Xã Đak Lua")."""
        prefix = self.PREFIXES.get(self.kind, "")
        return f"{prefix} {self.name}".strip()

    def is_within(self, other: Unit) -> bool:
        """True when this unit is ``other`` or lies under it."""
        return self.path.startswith(other.path)

    def __repr__(self) -> str:
        return f"<Unit {self.code} {self.full_name!r}>"


class RosterImport(db.Model):
    """One roster upload or CLI import: the audit trail and the rejected rows for download."""

    __tablename__ = "roster_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(8), default="web")  # web | cli
    is_dry_run: Mapped[bool] = mapped_column(default=False)
    skip_invalid: Mapped[bool] = mapped_column(default=False)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    invalid_count: Mapped[int] = mapped_column(Integer, default=0)
    # [{"row": 7, "column": "phone", "reason": "…", "values": {...}}, …]
    errors: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<RosterImport {self.id} {self.filename!r}>"
