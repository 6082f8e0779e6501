"""deploy/nginx.conf: what the README promises of it, and that nginx accepts it."""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"


@pytest.fixture(scope="module")
def conf() -> str:
    return SAMPLE.read_text(encoding="utf-8")


def test_gzip_for_text_types(conf):
    types = set(re.search(r"gzip_types([^;]+);", conf).group(1).split())
    assert {"text/css", "application/javascript", "application/json", "image/svg+xml",
            "text/csv"} <= types
    assert re.search(r"^\s*gzip on;", conf, re.M)


def test_static_and_media_are_cached_for_a_year(conf):
    assert '"public, max-age=31536000, immutable"' in conf
    assert re.search(r"location /static/ \{[^}]*\$hocvuso_static_cache", conf)
    media = re.search(r'location ~ "\^/media/[^"]+" \{([^}]*)\}', conf).group(1)
    assert "max-age=31536000, immutable" in media and "/instance/uploads" in media


def test_proxy_headers(conf):
    for header in ("X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Proto $scheme",
                   "X-Forwarded-Host $host", "X-Request-ID $request_id"):
        assert f"proxy_set_header {header};" in conf
    assert "proxy_pass http://hocvuso;" in conf and "server 127.0.0.1:8000;" in conf


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hocvuso.example.vn")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_nginx_accepts_it(conf, tmp_path):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if not nginx:
        pytest.skip("nginx is not installed (apt-get install nginx-light); syntax not checked")
    cert, key = self_signed(tmp_path)
    site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", conf)
    site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", site)
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n", encoding="utf-8")
    result = subprocess.run([nginx, "-t", "-q", "-p", str(tmp_path), "-c",
                             str(tmp_path / "nginx.conf")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
