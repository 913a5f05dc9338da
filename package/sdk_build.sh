#!/bin/bash
# Runs inside the OpenWrt 24.10 SDK container (`make sdk-ipk`): builds the tr069-bridge feed package
# from the project mounted read-only at /src and writes a tar holding the .ipk to stdout; the build
# log goes to stderr. The steps are those of openwrt-sdk.md.
set -euo pipefail
exec 3>&1 1>&2

cd "${SDK_DIR:-/builder}"
# some SDK images carry only setup.sh, which downloads and unpacks the SDK on first use
[ -e rules.mk ] || ./setup.sh

cp feeds.conf.default feeds.conf
echo "src-link tr069 /src/package" >> feeds.conf
./scripts/feeds update base packages tr069
# installs the package and the feed packages it depends on (python3-*, websocket-client, requests)
./scripts/feeds install -p tr069 tr069-bridge

echo "CONFIG_PACKAGE_tr069-bridge=m" >> .config
make defconfig
# the first run also compiles the python3 packages it depends on
make package/tr069-bridge/compile V=s -j"$(nproc)"

ipk="$(find bin/packages -name 'tr069-bridge_*.ipk' | head -n 1)"
[ -n "$ipk" ] || { echo "no tr069-bridge .ipk under bin/packages" >&2; exit 1; }
tar -C "$(dirname "$ipk")" -cf - "$(basename "$ipk")" >&3
