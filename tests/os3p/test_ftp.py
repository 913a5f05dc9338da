"""bridge/ftp.py against a real FTP server (pyftpdlib) on loopback: plain, FTPS, cut transfers."""

import io
import logging
import os

import pytest

from bridge import ftp

pytest.importorskip("pyftpdlib")
from support.ftp_server import FtpServer  # noqa: E402
from support.os3p_harness import make_pki  # noqa: E402

DATA = os.urandom(300_000)  # several blocks


def test_download_and_upload_in_passive_mode_with_url_credentials(tmp_path, caplog):
    root = tmp_path / "srv"
    root.mkdir()
    (root / "fw.img").write_bytes(DATA)
    (root / "up").mkdir()
    with FtpServer(root) as server, caplog.at_level(logging.WARNING):
        target = tmp_path / "got.img"
        assert ftp.download(server.url("/fw.img"), str(target), timeout=5) == len(DATA)
        assert target.read_bytes() == DATA and (os.stat(target).st_mode & 0o777) == 0o600
        ftp.upload(server.url("/up"), "MeterValuesHistory=20160515-20160615.txt", io.BytesIO(DATA), timeout=5)
        assert (root / "up" / "MeterValuesHistory=20160515-20160615.txt").read_bytes() == DATA
        ftp.upload(server.url("/up"), "second.txt", io.BytesIO(b"x"), timeout=5)
    warnings = [r.getMessage() for r in caplog.records if "in clear" in r.getMessage()]
    assert len(warnings) == 1 and "meter" in warnings[0]  # once, naming the user
    assert "s3cret" not in caplog.text


def test_anonymous_download(tmp_path):
    (tmp_path / "f").write_bytes(b"hello")
    with FtpServer(tmp_path) as server:
        ftp.download(server.url("/f", user=None), str(tmp_path / "g"), timeout=5)
    assert (tmp_path / "g").read_bytes() == b"hello"


def test_errors_name_the_location_without_the_password(tmp_path):
    with FtpServer(tmp_path) as server:
        with pytest.raises(ftp.FtpError) as e:
            ftp.download(server.url("/missing"), str(tmp_path / "x"), timeout=5)
        assert "550" in str(e.value) and "s3cret" not in str(e.value) and "********" in str(e.value)
        with pytest.raises(ftp.FtpError) as e:
            ftp.download(server.url("/f", password="wrong"), str(tmp_path / "x"), timeout=5)
        assert "530" in str(e.value) and "wrong" not in str(e.value)
        with pytest.raises(ftp.FtpError):  # ftps:// demands TLS; this server has none
            ftp.download(server.url("/f", scheme="ftps"), str(tmp_path / "x"), timeout=5)


def test_ftps_when_the_server_offers_it_with_the_certificate_checked(tmp_path, caplog):
    pki = make_pki(tmp_path)
    if pki is None:
        pytest.skip("no openssl program")
    root = tmp_path / "srv"
    root.mkdir()
    (root / "fw.img").write_bytes(DATA)
    with FtpServer(root, tls=(pki["cert"], pki["key"])) as server, caplog.at_level(logging.WARNING):
        ftp.download(server.url("/fw.img"), str(tmp_path / "a"), timeout=5, cafile=pki["ca"])
        ftp.upload(server.url("/", scheme="ftps"), "b.txt", io.BytesIO(DATA), timeout=5, cafile=pki["ca"])
        with pytest.raises(ftp.FtpError) as e:  # an unknown CA is refused, not downgraded
            ftp.download(server.url("/fw.img"), str(tmp_path / "c"), timeout=5)
        assert "CERTIFICATE_VERIFY_FAILED" in str(e.value) or "certificate" in str(e.value).lower()
    assert (tmp_path / "a").read_bytes() == DATA and (root / "b.txt").read_bytes() == DATA
    assert "in clear" not in caplog.text


def test_a_transfer_cut_midway_is_an_error(tmp_path):
    root = tmp_path / "srv"
    root.mkdir()
    (root / "fw.img").write_bytes(DATA)
    with FtpServer(root, cut_after=100_000) as server:
        with pytest.raises(ftp.FtpError):
            ftp.download(server.url("/fw.img"), str(tmp_path / "x"), timeout=0.5)
        with pytest.raises(ftp.FtpError):
            ftp.upload(server.url("/"), "big.txt", io.BytesIO(DATA * 4), timeout=0.5)
