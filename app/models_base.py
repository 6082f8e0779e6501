"""Small pieces shared by every model: UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Timezone-aware now in UTC; used as a column default (a callable, never a value)."""
    return datetime.now(UTC)
