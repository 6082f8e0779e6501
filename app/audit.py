"""Audit log: who exported personal data, imported rosters, changed roles, issued codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import utcnow


class AuditLog(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Dotted verb such as "roster.import", "people.export", "code.reset_issued".
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )

    actor = relationship("User")

    def __repr__(self) -> str:
        return f"<AuditLog {self.action} by={self.actor_id}>"


def record_audit(
    action: str, actor: Any = None, target: str | None = None, **details: Any
) -> AuditLog:
    """Add an audit entry to the current transaction (the caller commits)."""
    from flask import has_request_context, request

    entry = AuditLog(
        action=action,
        actor_id=getattr(actor, "id", None),
        target=target,
        details=details,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
