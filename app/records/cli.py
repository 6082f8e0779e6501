"""`flask keys …` (signing keys) and `flask records …` (offline verification, xAPI export)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.records import services, signing, verification
from app.records.credentials import local_date

keys_cli = AppGroup("keys", help="Khóa ký chứng nhận (Ed25519).")
records_cli = AppGroup("records", help="Chứng nhận hoàn thành: kiểm tra, xuất xAPI.")


@keys_cli.command("generate")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Thư mục khóa (mặc định SIGNING_KEY_DIR hoặc instance/keys).")
def generate_command(directory: Path | None) -> None:
    """Tạo cặp khóa mới; khóa mới nhất dùng để ký, các khóa công khai cũ vẫn được công bố."""
    key = signing.generate_key(directory)
    where = directory or signing.key_dir()
    click.echo(f"Đã tạo khóa {key.kid} trong {where}")
    click.echo(f"  khóa bí mật: {where / (key.kid + '.pem')} (quyền 600, đừng đưa vào git)")
    click.echo(f"  khóa công khai: {where / (key.kid + '.pub.pem')}")


@keys_cli.command("list")
def list_command() -> None:
    """Liệt kê các khóa: khóa nào đang ký, khóa nào chỉ còn phần công khai."""
    keys = signing.load_keys()
    if not keys:
        click.echo(f"Chưa có khóa nào trong {signing.key_dir()}. Chạy: flask keys generate")
        return
    signer = next((k.kid for k in reversed(keys) if k.private_key is not None), None)
    for key in keys:
        state = "đang ký" if key.kid == signer else (
            "còn khóa bí mật" if key.private_key is not None else "chỉ khóa công khai")
        click.echo(f"{key.kid}  {state}")


def _read_input(value: str) -> str:
    """A path to a file (the .json credential, or a text file with the QR text), or the text."""
    if value == "-":
        return sys.stdin.read()
    try:
        is_file = Path(value).is_file()
    except OSError:  # a token is longer than any file name may be
        is_file = False
    if not is_file:
        return value
    try:
        return Path(value).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(f"Tệp {value} không phải văn bản UTF-8 (cần tệp .json "
                                   "tải từ /verify/<mã>.json hoặc nội dung mã QR).") from None


@records_cli.command("verify")
@click.argument("source")
@click.option("--jwks", "jwks_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Tệp JWKS đã lưu từ /.well-known/jwks.json (để kiểm tra không cần mạng).")
@click.option("--offline", is_flag=True, help="Không tra cơ sở dữ liệu (bỏ qua kiểm tra thu hồi).")
def verify_command(source: str, jwks_file: Path | None, offline: bool) -> None:
    """Kiểm tra chữ ký của một chứng nhận: tệp .json tải từ /verify/<mã>.json, VC-JWT, hoặc
    nội dung mã QR (<địa chỉ>/verify/<mã>#<token>). Thoát mã 1 khi chữ ký sai, khóa lạ,
    hoặc (khi tra được cơ sở dữ liệu) chứng nhận đã bị thu hồi."""
    if jwks_file is not None:
        try:
            keys = signing.keys_from_jwks(json.loads(jwks_file.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise click.ClickException(f"Tệp JWKS {jwks_file} không phải JSON.") from None
    else:
        keys = signing.public_keys()
    if not keys:
        click.echo("KHÔNG KIỂM TRA ĐƯỢC: không có khóa công khai nào (dùng --jwks TỆP).", err=True)
        sys.exit(1)
    try:
        verdict = verification.check(_read_input(source), keys)
    except signing.InvalidToken as exc:
        click.echo(f"KHÔNG HỢP LỆ: {exc.reason}")
        sys.exit(1)
    kind = "chứng nhận Open Badges (VC-JWT)" if verdict.kind == "credential" else "mã QR"
    click.echo(f"CHỮ KÝ HỢP LỆ ({kind}, khóa {verdict.kid})")
    labels = {"holder": "Người nhận", "course": "Khóa học", "completed": "Hoàn thành",
              "unit": "Đơn vị cấp", "issuer": "Nơi cấp"}
    click.echo(f"  Mã xác minh: {verdict.code}")
    for key, label in labels.items():
        if verdict.summary.get(key):
            click.echo(f"  {label}: {verdict.summary[key]}")
    click.echo("  Nội dung đã ký: " + json.dumps(verdict.claims, ensure_ascii=False))
    if offline:
        click.echo("Không tra tình trạng thu hồi (--offline).")
        return
    try:
        record = verification.record_status(verdict.code)
    except SQLAlchemyError:
        db.session.rollback()
        click.echo("Không kết nối được cơ sở dữ liệu: chưa kiểm tra tình trạng thu hồi.")
        return
    if record is None:
        click.echo("Lưu ý: cơ sở dữ liệu này không có chứng nhận mang mã trên.")
    elif record.is_revoked:
        click.echo(f"ĐÃ BỊ THU HỒI ngày {local_date(record.revoked_at):%d/%m/%Y}.")
        sys.exit(1)
    else:
        click.echo("Tình trạng: còn hiệu lực (chưa bị thu hồi).")


@records_cli.command("export-xapi")
@click.argument("out", type=click.File("w", encoding="utf-8", lazy=True))
def export_xapi_command(out) -> None:
    """Ghi các câu lệnh xAPI (completed, passed) ra tệp OUT, mỗi dòng một JSON ("-" = stdout)."""
    count = services.write_xapi(out)
    click.echo(f"Đã ghi {count} câu lệnh xAPI.", err=True)
