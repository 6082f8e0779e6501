"""`flask demo seed`: demo data for a fresh install. (Being built.)"""

from __future__ import annotations

from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Dữ liệu mẫu.")
