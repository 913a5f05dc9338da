#!/bin/bash
# Runs inside the OpenWrt 24.10 SDK container (`make sdk-ipk`): builds the feed's packages (tr069-bridge,
# tr069-bridge-src, luci-app-tr069) from the project mounted read-only at /src and writes a tar holding
# the .ipk files to stdout; the build log goes to stderr. The steps are those of openwrt-sdk.md.
set -euo pipefail
exec 3>&1 1>&2

cd "${SDK_DIR:-/builder}"
# some SDK images carry only setup.sh, which downloads and unpacks the SDK on first use
[ -e rules.mk ] || ./setup.sh

cp feeds.conf.default feeds.conf
echo "src-link tr069 /src/package" >> feeds.conf
# packages: python3-package.mk and the python3-* dependencies; luci: luci.mk
./scripts/feeds update base packages luci tr069
./scripts/feeds install -p tr069 tr069-bridge luci-app-tr069

cat >> .config <<'CONFIG'
CONFIG_PACKAGE_tr069-bridge=m
CONFIG_PACKAGE_tr069-bridge-src=m
CONFIG_PACKAGE_luci-app-tr069=m
CONFIG
make defconfig
# the first run also compiles the host Python and the python3 packages the daemon depends on
make package/tr069-bridge/compile package/luci-app-tr069/compile V=s -j"$(nproc)"

ipks="$(find bin/packages -path '*/tr069/*' -name '*.ipk')"
[ -n "$ipks" ] || { echo "no .ipk under bin/packages/*/tr069" >&2; exit 1; }
for name in tr069-bridge tr069-bridge-src luci-app-tr069; do
	echo "$ipks" | grep -q "/${name}_" || { echo "no ${name} .ipk under bin/packages/*/tr069" >&2; exit 1; }
done
# shellcheck disable=SC2086  # one path per word
tar -cf - --transform 's|.*/||' $ipks >&3
