"""An OpenWrt device's outside, on the host: procd's `system board` answer, programs on PATH in place of
the device's own (sysupgrade, logread), and the files a device without procd's `system` object still has."""

import stat


BOARD = {"kernel": "6.6.73", "hostname": "OpenWrt", "system": "ARMv7 Processor rev 5 (v7l)",
         "model": "Linksys WRT3200ACM", "board_name": "linksys,wrt3200acm", "rootfs_type": "squashfs",
         "release": {"distribution": "OpenWrt", "version": "24.10.0", "revision": "r28427-6df0e3d02a",
                     "target": "mvebu/cortexa9", "description": "OpenWrt 24.10.0 r28427-6df0e3d02a"}}


def fake_program(bindir, name, body):
    path = bindir / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def lay_out_root(root):
    """The files a device without procd's `system` object still has, laid out as OpenWrt lays them out."""
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "openwrt_release").write_text(
        "DISTRIB_ID='OpenWrt'\nDISTRIB_RELEASE='24.10.0'\nDISTRIB_REVISION='r28427-6df0e3d02a'\n"
        "DISTRIB_TARGET='mvebu/cortexa9'\nDISTRIB_DESCRIPTION='OpenWrt 24.10.0 r28427-6df0e3d02a'\n")
    (root / "tmp" / "sysinfo").mkdir(parents=True)
    (root / "tmp" / "sysinfo" / "model").write_text("Linksys WRT3200ACM\n")
    (root / "tmp" / "sysinfo" / "board_name").write_text("linksys,wrt3200acm\n")
    (root / "proc" / "sys" / "kernel").mkdir(parents=True)
    (root / "proc" / "sys" / "kernel" / "hostname").write_text("substation-7\n")
    (root / "sys" / "class" / "net" / "eth0").mkdir(parents=True)
    (root / "sys" / "class" / "net" / "eth0" / "address").write_text("60:38:e0:12:34:56\n")
