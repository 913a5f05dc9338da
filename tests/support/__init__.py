"""What the tests share: fakes of the daemon's peers (ubusd, rpcd, procd, a central system's HTTP, FTP and
Modbus servers, sysfs), harnesses that run the daemon or one of its parts, one fake clock, and the
repository's paths. Imported as `from support.x import ...` (conftest.py puts tests/ on sys.path)."""
