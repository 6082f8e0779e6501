"""Database triggers that keep membership history and queue what the counts must follow:
a team (members joined, moved or left) or one member (a record or a mastery changed).

Triggers, not ORM events, because members are created and moved by many paths (forms,
bulk roster INSERTs, CLI, SQL by hand) and every one of them must be seen. Days are local
Vietnam days (UTC+7, no daylight saving).

``install_triggers`` is idempotent. A SQLite batch migration that rebuilds one of the
tables named here drops its triggers: such a migration must call it again.
"""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.engine import Connection

SQLITE_TODAY = "date('now', '+7 hours')"

_SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS hv_users_insert AFTER INSERT ON users
    BEGIN
      INSERT INTO membership_periods (user_id, unit_id, is_active, valid_from, valid_to)
      VALUES (NEW.id, NEW.unit_id, NEW.is_active_member, {SQLITE_TODAY}, NULL);
      INSERT INTO progress_dirty_units (unit_id) VALUES (NEW.unit_id);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS hv_users_move AFTER UPDATE OF unit_id, is_active_member
    ON users WHEN OLD.unit_id IS NOT NEW.unit_id OR OLD.is_active_member IS NOT NEW.is_active_member
    BEGIN
      UPDATE membership_periods SET valid_to = {SQLITE_TODAY}
        WHERE user_id = NEW.id AND valid_to IS NULL;
      INSERT INTO membership_periods (user_id, unit_id, is_active, valid_from, valid_to)
      VALUES (NEW.id, NEW.unit_id, NEW.is_active_member, {SQLITE_TODAY}, NULL);
    END""",
    """CREATE TRIGGER IF NOT EXISTS hv_users_dirty AFTER UPDATE OF unit_id, is_active_member,
    audience ON users WHEN OLD.unit_id IS NOT NEW.unit_id
      OR OLD.is_active_member IS NOT NEW.is_active_member OR OLD.audience IS NOT NEW.audience
    BEGIN
      INSERT INTO progress_dirty_units (unit_id) VALUES (OLD.unit_id);
      INSERT INTO progress_dirty_units (unit_id) SELECT NEW.unit_id
        WHERE NEW.unit_id IS NOT OLD.unit_id;
    END""",
    """CREATE TRIGGER IF NOT EXISTS hv_users_delete AFTER DELETE ON users
    BEGIN
      INSERT INTO progress_dirty_units (unit_id) VALUES (OLD.unit_id);
    END""",
    """CREATE TRIGGER IF NOT EXISTS hv_grants_insert AFTER INSERT ON role_grants
    WHEN NEW.role = 'learner'
    BEGIN
      INSERT INTO progress_dirty_units (unit_id) SELECT unit_id FROM users WHERE id = NEW.user_id;
    END""",
    """CREATE TRIGGER IF NOT EXISTS hv_grants_delete AFTER DELETE ON role_grants
    WHEN OLD.role = 'learner'
    BEGIN
      INSERT INTO progress_dirty_units (unit_id) SELECT unit_id FROM users WHERE id = OLD.user_id;
    END""",
    """CREATE TRIGGER IF NOT EXISTS hv_records_insert AFTER INSERT ON completion_records
    BEGIN
      @MARK_MEMBER@
    END""",
    """CREATE TRIGGER IF NOT EXISTS hv_records_revoke AFTER UPDATE OF revoked_at
    ON completion_records WHEN OLD.revoked_at IS NOT NEW.revoked_at
    BEGIN
      @MARK_MEMBER@
    END""",
    """CREATE TRIGGER IF NOT EXISTS hv_mastery_insert AFTER INSERT ON competency_mastery
    WHEN NEW.is_mastered
    BEGIN
      @MARK_MEMBER@
    END""",
    """CREATE TRIGGER IF NOT EXISTS hv_mastery_update AFTER UPDATE OF is_mastered
    ON competency_mastery WHEN OLD.is_mastered IS NOT NEW.is_mastered
    BEGIN
      @MARK_MEMBER@
    END""",
    """CREATE TRIGGER IF NOT EXISTS hv_units_path AFTER UPDATE OF path ON units
    WHEN OLD.path IS NOT NEW.path
    BEGIN
      INSERT INTO progress_dirty_units (unit_id) VALUES (NEW.id);
    END""",
]

_PG_FUNCTIONS = [
    """CREATE OR REPLACE FUNCTION hv_local_today() RETURNS date LANGUAGE sql STABLE AS
    $$ SELECT (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date $$""",
    """CREATE OR REPLACE FUNCTION hv_users_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        INSERT INTO progress_dirty_units (unit_id) VALUES (OLD.unit_id);
        RETURN NULL;
      END IF;
      IF TG_OP = 'INSERT' THEN
        INSERT INTO membership_periods (user_id, unit_id, is_active, valid_from, valid_to)
        VALUES (NEW.id, NEW.unit_id, NEW.is_active_member, hv_local_today(), NULL);
        INSERT INTO progress_dirty_units (unit_id) VALUES (NEW.unit_id);
        RETURN NULL;
      END IF;
      IF NEW.unit_id IS DISTINCT FROM OLD.unit_id
         OR NEW.is_active_member IS DISTINCT FROM OLD.is_active_member THEN
        UPDATE membership_periods SET valid_to = hv_local_today()
          WHERE user_id = NEW.id AND valid_to IS NULL;
        INSERT INTO membership_periods (user_id, unit_id, is_active, valid_from, valid_to)
        VALUES (NEW.id, NEW.unit_id, NEW.is_active_member, hv_local_today(), NULL);
      END IF;
      IF NEW.unit_id IS DISTINCT FROM OLD.unit_id
         OR NEW.is_active_member IS DISTINCT FROM OLD.is_active_member
         OR NEW.audience IS DISTINCT FROM OLD.audience THEN
        INSERT INTO progress_dirty_units (unit_id) VALUES (OLD.unit_id);
        IF NEW.unit_id IS DISTINCT FROM OLD.unit_id THEN
          INSERT INTO progress_dirty_units (unit_id) VALUES (NEW.unit_id);
        END IF;
      END IF;
      RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION hv_mark_user_unit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO progress_dirty_units (unit_id)
        SELECT unit_id FROM users
        WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END;
      RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION hv_mark_member() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO progress_dirty_units (unit_id, user_id)
        SELECT unit_id, id FROM users WHERE id = NEW.user_id;
      RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION hv_mark_unit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO progress_dirty_units (unit_id) VALUES (NEW.id);
      RETURN NULL;
    END $$""",
]

# (name, table, timing and condition, function)
_PG_TRIGGERS = [
    ("hv_users_changed", "users", "AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH ROW",
     "hv_users_changed"),
    ("hv_grants_insert", "role_grants",
     "AFTER INSERT ON role_grants FOR EACH ROW WHEN (NEW.role = 'learner')", "hv_mark_user_unit"),
    ("hv_grants_delete", "role_grants",
     "AFTER DELETE ON role_grants FOR EACH ROW WHEN (OLD.role = 'learner')", "hv_mark_user_unit"),
    ("hv_records_insert", "completion_records",
     "AFTER INSERT ON completion_records FOR EACH ROW", "@MEMBER_FUNCTION@"),
    ("hv_records_revoke", "completion_records",
     "AFTER UPDATE OF revoked_at ON completion_records FOR EACH ROW "
     "WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at)", "@MEMBER_FUNCTION@"),
    ("hv_mastery_insert", "competency_mastery",
     "AFTER INSERT ON competency_mastery FOR EACH ROW WHEN (NEW.is_mastered)",
     "@MEMBER_FUNCTION@"),
    ("hv_mastery_update", "competency_mastery",
     "AFTER UPDATE OF is_mastered ON competency_mastery FOR EACH ROW "
     "WHEN (OLD.is_mastered IS DISTINCT FROM NEW.is_mastered)", "@MEMBER_FUNCTION@"),
    ("hv_units_path", "units",
     "AFTER UPDATE OF path ON units FOR EACH ROW WHEN (OLD.path IS DISTINCT FROM NEW.path)",
     "hv_mark_unit"),
]

TRIGGER_NAMES = [name for name, *_ in _PG_TRIGGERS]

# How a record or a mastery change is queued: the member (the recount rewrites their row and
# re-adds their team's figures), or, before progress_dirty_units had user_id, the team.
_MARK_MEMBER = ("INSERT INTO progress_dirty_units (unit_id, user_id) "
                "SELECT unit_id, id FROM users WHERE id = NEW.user_id;")
_MARK_TEAM = "INSERT INTO progress_dirty_units (unit_id) SELECT unit_id FROM users WHERE id = NEW.user_id;"


def install_triggers(conn: Connection, *, member_marks: bool = True) -> None:
    """Create (or re-create) every trigger of this module on ``conn``'s database.

    ``member_marks=False`` installs them as they were before the member queue (migrations
    that run before its column exists)."""
    if conn.dialect.name == "postgresql":
        for statement in _PG_FUNCTIONS:
            conn.execute(text(statement))
        member_function = "hv_mark_member" if member_marks else "hv_mark_user_unit"
        for name, table, when, function in _PG_TRIGGERS:
            function = function.replace("@MEMBER_FUNCTION@", member_function)
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
            conn.execute(text(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {function}()"))
    else:
        mark = _MARK_MEMBER if member_marks else _MARK_TEAM
        for statement in _SQLITE:
            conn.execute(text(statement.replace("@MARK_MEMBER@", mark)))


def drop_triggers(conn: Connection) -> None:
    """Remove the triggers and functions (the migration's downgrade)."""
    if conn.dialect.name == "postgresql":
        for name, table, _when, _function in _PG_TRIGGERS:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
        for function in ("hv_users_changed", "hv_mark_user_unit", "hv_mark_member",
                         "hv_mark_unit", "hv_local_today"):
            conn.execute(text(f"DROP FUNCTION IF EXISTS {function}()"))
    else:
        for statement in _SQLITE:
            name = statement.split("EXISTS", 1)[1].split()[0]
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


def attach_to_metadata(metadata) -> None:
    """``create_all`` (the test suite's schema) installs the triggers too."""
    event.listen(metadata, "after_create", lambda _target, conn, **_kw: install_triggers(conn))
