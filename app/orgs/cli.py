"""`flask units …`: load the unit tree from CSV."""

from __future__ import annotations

from flask.cli import AppGroup

units_cli = AppGroup("units", help="Đơn vị hành chính và Tổ CNSCĐ.")
