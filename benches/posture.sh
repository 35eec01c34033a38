#!/usr/bin/env bash
# Wall-time benchmark of the user-facing paths, against the emulated tenant on loopback:
#   lookup by serial and by UUID, `check` from a fresh snapshot (the login path),
#   and `check --live` (identity read through a stand-in sentinelctl + one API request).
# Needs root (the device identity is faked in a private mount namespace, and `check`
# trusts only root-owned files) and hyperfine (apt-get install hyperfine).
# Usage: bash benches/posture.sh [RUNS]      Results: medians printed, JSON in target/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
[ "$(id -u)" = 0 ] || { echo "benches/posture.sh needs root" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "install hyperfine first (apt-get install hyperfine)" >&2; exit 2; }

cargo build --quiet --release -p s1trust -p s1-emulator
bin=$PWD/target/release
out=$PWD/target/bench
mkdir -p "$out"
work=$(mktemp -d)
emulator_pid=""
cleanup() {
  [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
umask 022

token=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
(umask 077 && printf '%s\n' "$token" > "$work/bench.token")
S1_EMULATOR_TOKEN="$token" "$bin/s1-emulator" --ca-out "$work/ca.pem" --url-file "$work/url" \
  > /dev/null 2> "$work/emulator.log" &
emulator_pid=$!
for _ in $(seq 1 100); do [ -s "$work/url" ] && break; sleep 0.05; done
url=$(cat "$work/url")

cat > "$work/config.toml" <<TOML
[[integration]]
name = "bench"
url = "$url"
token_file = "bench.token"
ca_file = "ca.pem"

[snapshot]
path = "$work/state/posture.json"
TOML

# The device: fixture laptop CONTOSO-LT-0142 (serial PF2ABCDE, agent a3f1c9e2…).
mkdir -p "$work/dmi" "$work/opt/sentinelone/bin"
echo PF2ABCDE > "$work/dmi/product_serial"
cat > "$work/opt/sentinelone/bin/sentinelctl" <<'SH'
#!/bin/sh
case "$1 $2" in
  "management status") printf 'Connectivity            On\nURL                     https://usea1-contoso.sentinelone.net\nUUID                    a3f1c9e2b7d84e6f9a0b1c2d3e4f5a6b\n' ;;
  "version ") printf 'Agent version: 24.1.4.257\nSentinelCTL version: 24.1.4.257\n' ;;
  *) exit 1 ;;
esac
SH
chmod 0755 "$work/opt/sentinelone/bin/sentinelctl"

cat > "$work/inner.sh" <<SH
set -eu
mount -t tmpfs -o mode=0755 none /sys/class
mkdir -p /sys/class/dmi/id
cp "$work/dmi/product_serial" /sys/class/dmi/id/product_serial
chmod 0400 /sys/class/dmi/id/product_serial
mount -t tmpfs -o mode=0755 none /opt
cp -a "$work/opt/sentinelone" /opt/sentinelone
export S1TRUST_CONFIG="$work/config.toml"
s1="$bin/s1trust"
conn="--url $url --token-file $work/bench.token --ca-file $work/ca.pem"
"\$s1" refresh
"\$s1" check --json > "$out/check-sample.json"
hyperfine -N --runs $runs --warmup 3 --export-json "$out/posture.json" --style basic \\
  -n "check (fresh snapshot)" "\$s1 check --json" \\
  -n "check --live" "\$s1 check --live --json" \\
  -n "lookup --serial" "\$s1 lookup --serial PF2ABCDE \$conn" \\
  -n "lookup --uuid" "\$s1 lookup --uuid a3f1c9e2b7d84e6f9a0b1c2d3e4f5a6b \$conn"
SH
unshare -m sh "$work/inner.sh"
python3 - "$out/posture.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f'{r["command"]:<24} median {r["median"]*1000:7.2f} ms   min {r["min"]*1000:7.2f} ms   max {r["max"]*1000:7.2f} ms')
PY
grep -q '"result": "trusted"' "$out/check-sample.json" && echo "check answered: trusted (source snapshot)"
