"""`flask units …`: load the unit tree from CSV."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.orgs import services

units_cli = AppGroup("units", help="Đơn vị hành chính và Tổ CNSCĐ.")


@units_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--province", "provinces", multiple=True, metavar="CODE",
              help="Tệp toàn quốc: chỉ nạp tỉnh/thành phố có mã này (lặp lại được).")
def import_command(file: Path, provinces: tuple[str, ...]) -> None:
    """Nạp hoặc cập nhật đơn vị từ FILE (CSV, UTF-8, có hoặc không có BOM).

    \b
    Hai dạng tệp, nhận ra theo dòng tiêu đề:
      code,name,kind,parent_code,group
          như content/orgs/dong-nai.csv. kind: province, city, phuong, xa,
          dac_khu, team (hoặc tỉnh, phường, xã, tổ). group: I, II hoặc để
          trống (phường → I; xã, đặc khu → II). Đơn vị cha có thể ở dòng sau.
      code,name,kind,province_code,province_name
          danh sách toàn quốc (research/vn_units_2025.csv): mỗi tỉnh thành một
          đơn vị gốc (kind city nếu tên bắt đầu bằng "Thành phố"), các xã/phường
          nằm dưới. Dùng --province 75 để chỉ nạp một tỉnh.

    Chạy lại nhiều lần được: đơn vị được nhận theo mã và cập nhật tại chỗ (tên,
    loại, nhóm, đơn vị cha), không bao giờ tạo trùng. Có bất kỳ dòng lỗi nào thì
    không ghi gì cả, in "line N: lý do" và thoát với mã 1.
    """
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        _fail(["line 1: tệp không phải văn bản UTF-8. Hãy lưu lại dạng “CSV UTF-8”."])
    rows, errors = services.parse_unit_csv(text, provinces)
    if errors:
        _fail(errors)
    report = services.import_units(rows)
    if not report.ok:
        db.session.rollback()
        _fail(report.errors)
    services.record_units_import(file.name, report)
    try:
        db.session.commit()
    except IntegrityError:  # another import created the same code between our check and now
        db.session.rollback()
        _fail(["line 1: một lần nhập khác vừa ghi cùng mã đơn vị; không ghi gì, hãy chạy lại."])
    click.echo(f"Đã nạp {file.name}: tạo mới {report.created}, cập nhật {report.updated}, "
               f"không đổi {report.unchanged}"
               + (f", đơn vị con được chuyển theo {report.moved}" if report.moved else "") + ".")


def _fail(errors) -> None:
    for error in errors:
        click.echo(str(error), err=True)
    click.echo(f"Không ghi gì: {len(errors)} lỗi.", err=True)
    sys.exit(1)
