#!/usr/bin/env bash
# Installs the Debian packages the build, the demo and the tests need, once.
# Quiet when everything is there; as root it uses apt-get, otherwise it says
# what to install.
set -euo pipefail

packages=(
	postgresql-15 postgresql-server-dev-15 postgresql-client-15
	build-essential clang-format libxgboost-dev librdkafka-dev libjson-c-dev kcat
	libpq-dev
	openjdk-17-jre-headless maven
	# make fuzz (libFuzzer, line coverage), make test-asan (symbolized reports)
	clang libclang-rt-14-dev llvm
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "Missing Debian packages: ${missing[*]}" >&2
	echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi

echo "==> installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
	tail -20 "$log" >&2
	echo "apt-get failed (log above): check the network and apt sources, then run the command again." >&2
	exit 1
fi
rm -f "$log"
# The Debian package starts a system cluster on 5432; we never use it.
