"""Roster import at the size the issue names: 10,000 rows in under 10 s on SQLite.

Builds a fresh SQLite database with the migrations, loads a province with 95 communes and a
team in each, writes a realistic 10,000-row CSV, then times ``flask users import FILE`` as an
operator runs it (a new process: start-up included). It then imports the same file again,
when every row is an update or unchanged, the path a monthly re-import takes.
"""

from __future__ import annotations

import csv
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROWS = 10_000
TARGET_SECONDS = 10.0
COMMUNES = 95

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Ngọc", "Thanh", "Đức", "Quốc", "Thu", "Hoài"]
GIVEN = ["An", "Bình", "Cường", "Dung", "Em", "Giang", "Hà", "Hải", "Hoa", "Hùng", "Lan", "Long",
         "Mai", "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vy", "Yến"]
ROLES = ["học viên"] * 18 + ["giảng viên", "cán bộ"]
AUDIENCES = ["người dân"] * 6 + ["cán bộ, công chức, viên chức", "học sinh", "công nhân"]


def write_roster(path: Path, rows: int, seed: int = 757) -> None:
    """A roster as officers export it from Excel: Vietnamese headers, BOM, mixed spellings."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["STT", "Họ và tên", "Số điện thoại", "Email", "Mã đơn vị", "Vai trò",
                         "Đối tượng", "Giới tính", "Năm sinh"])
        for i in range(rows):
            commune = i % COMMUNES
            phone = f"09{i:08d}"
            writer.writerow([
                i + 1,
                f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
                f"{phone[:4]} {phone[4:7]} {phone[7:]}" if i % 2 else phone,
                f"tv{i}@example.vn" if i % 5 == 0 else "",
                f"B{commune:02d}-T1" if i % 3 == 0 else f"B{commune:02d}",
                rng.choice(ROLES),
                rng.choice(AUDIENCES),
                rng.choice(["Nam", "Nữ"]),
                rng.randint(1950, 2006),
            ])


def prepare_database(env: dict[str, str]) -> None:
    """Migrations, then the unit tree written directly (this benchmark times users only)."""
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    code = f"""
import os
from app import create_app
from app.extensions import db
from app.orgs.models import Unit

app = create_app()
with app.app_context():
    province = Unit(code="BENCH", name="Thử nghiệm", kind="province")
    db.session.add(province); db.session.flush()
    province.path = f"/{{province.id}}/"
    for c in range({COMMUNES}):
        commune = Unit(code=f"B{{c:02d}}", name=f"Xã {{c}}", kind="xa", unit_group="II",
                       parent_id=province.id, depth=1)
        db.session.add(commune); db.session.flush()
        commune.path = f"{{province.path}}{{commune.id}}/"
        team = Unit(code=f"B{{c:02d}}-T1", name=f"Tổ {{c}}", kind="team",
                    parent_id=commune.id, depth=2)
        db.session.add(team); db.session.flush()
        team.path = f"{{commune.path}}{{team.id}}/"
    db.session.commit()
"""
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)


def time_import(env: dict[str, str], roster: Path, codes: Path) -> tuple[float, float, float, str]:
    """Wall clock and CPU time of the whole command, the import's own time as it reports it,
    and its summary line. CPU time shows what the import costs when other work shares the
    machine and stretches the wall clock."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "users", "import", str(roster),
               "--codes-out", str(codes)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        print(done.stdout, done.stderr)
        raise SystemExit(f"import failed with exit status {done.returncode}")
    lines = done.stdout.strip().splitlines()
    summary = next(line for line in lines if line.startswith(("Đã ghi", "Chỉ kiểm tra")))
    took = next(line for line in lines if line.startswith("Thời gian: "))
    return elapsed, cpu, float(took.split()[2].replace(",", ".")), summary


def main() -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-roster-") as tmp:
        work = Path(tmp)
        env = dict(os.environ, APP_ENV="production", SECRET_KEY="bench-only",
                   DATABASE_URL=f"sqlite:///{work / 'bench.sqlite3'}", RATELIMIT_ENABLED="0")
        env.pop("TEST_DATABASE_URL", None)
        prepare_database(env)
        roster = work / "danh-sach-10000.csv"
        write_roster(roster, ROWS)
        load = os.getloadavg()[0]
        first, first_cpu, first_own, summary = time_import(env, roster, work / "ma-1.csv")
        again, again_cpu, again_own, summary_again = time_import(env, roster, work / "ma-2.csv")
    cores = os.cpu_count()
    print(f"machine: {platform.machine()}, {cores} cores, Python {platform.python_version()}, "
          f"SQLite file database; {date.today():%Y-%m-%d}; load average {load:.1f} at start")
    print("command: flask --app wsgi users import danh-sach-10000.csv --codes-out ma.csv")
    print("  wall = whole process, start-up included; cpu = its user+system time;")
    print("  import = the command's own figure, from reading the file to the commit")
    for label, wall, cpu, own, text in (
            (f"first import of {ROWS:,} rows (all new)", first, first_cpu, first_own, summary),
            ("same file again (all existing)", again, again_cpu, again_own, summary_again)):
        print(f"{label:38} wall {wall:5.2f} s  cpu {cpu:5.2f} s  import {own:4.1f} s  | {text}")
    ok = first < TARGET_SECONDS and again < TARGET_SECONDS
    print(f"target < {TARGET_SECONDS:.0f} s: {'met' if ok else 'MISSED'}")
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
