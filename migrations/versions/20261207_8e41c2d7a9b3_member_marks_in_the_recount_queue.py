"""member marks in the recount queue: a record or mastery change queues the member

Revision ID: 8e41c2d7a9b3
Revises: 49123ef3d71c
Create Date: 2026-12-07 09:50:00

"""
from alembic import op
import sqlalchemy as sa

from app.reports.triggers import drop_triggers, install_triggers


# revision identifiers, used by Alembic.
revision = '8e41c2d7a9b3'
down_revision = '49123ef3d71c'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    drop_triggers(bind)  # SQLite's CREATE TRIGGER IF NOT EXISTS would keep the old bodies
    with op.batch_alter_table('progress_dirty_units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
    install_triggers(bind)


def downgrade():
    bind = op.get_bind()
    drop_triggers(bind)  # their bodies name the column
    with op.batch_alter_table('progress_dirty_units', schema=None) as batch_op:
        batch_op.drop_column('user_id')
    install_triggers(bind, member_marks=False)
