#!/usr/bin/env bash
# Demo of s1trust against the emulated SentinelOne tenant on loopback:
# builds both binaries, starts the tenant with a throw-away token, runs
# `integration test`, a few lookups, and — playing the device CONTOSO-LT-0142
# through a debug-build test identity — `refresh` and `check`; then stops the tenant.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --bin s1trust -p s1trust -p s1-emulator
bin=target/debug

# Not in /tmp: no trusted file may sit below a folder others can write, sticky or not.
mkdir -p target/tmp
work=$(mktemp -d "$PWD/target/tmp/s1trust.XXXXXX")
emulator_pid=""
cleanup() {
  [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A random token, kept in a 0600 file and passed by environment, never on a command line.
umask 077
token=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
printf '%s\n' "$token" > "$work/demo.token"

S1_EMULATOR_TOKEN="$token" "$bin/s1-emulator" --ca-out "$work/ca.pem" --url-file "$work/url" \
  > "$work/emulator.out" 2> "$work/emulator.log" &
emulator_pid=$!
for _ in $(seq 1 100); do
  [ -s "$work/url" ] && break
  sleep 0.05
done
[ -s "$work/url" ] || { echo "the emulator did not start:" >&2; cat "$work/emulator.log" >&2; exit 1; }
url=$(cat "$work/url")

# An empty config so a host's /etc/s1trust/config.toml cannot change the demo.
printf '# demo: everything comes from the command line\n' > "$work/config.toml"
export S1TRUST_CONFIG="$work/config.toml"
conn=(--url "$url" --token-file "$work/demo.token" --ca-file "$work/ca.pem")

show() {
  printf '\n$ s1trust %s\n' "$*"
  local rc=0
  "$bin/s1trust" "$@" "${conn[@]}" || rc=$?
  printf '(exit %s)\n' "$rc"
}

echo "Emulated tenant at $url (CA and token in $work)"
show integration test
show lookup --serial PF2ABCDE
show lookup --serial 5CG1234XYZ
show lookup --uuid 6F1D3C2A8B4E4C9DA1E23B4C5D6E7F80
show lookup --serial PF2ABC
show lookup --serial "To Be Filled By O.E.M."

# The posture check needs a configured integration and this device's identity.
# Debug builds accept a stand-in identity (S1TRUST_TEST_IDENTITY) so the demo can
# play the fixture laptop CONTOSO-LT-0142; release builds ignore that variable.
cat > "$work/config.toml" <<TOML
[[integration]]
name = "demo"
url = "$url"
token_file = "demo.token"
ca_file = "ca.pem"

[snapshot]
path = "$work/state/posture.json"
TOML
chmod 644 "$work/config.toml"
cat > "$work/identity.json" <<'JSON'
{"serialNumber": "PF2ABCDE", "agentUuid": "a3f1c9e2b7d84e6f9a0b1c2d3e4f5a6b", "agentInstalled": true,
 "agentVersion": "24.1.4.257", "hostname": "CONTOSO-LT-0142", "osType": "windows", "osName": "Windows 11 Pro",
 "serialCandidates": [], "virtual": false, "problems": []}
JSON
export S1TRUST_TEST_IDENTITY="$work/identity.json"
conn=()
if [ "$(id -u)" != 0 ]; then
  echo
  echo "note: not root, so the config and snapshot below are not root-owned and 'check' will refuse to trust them (as it must)."
fi
show refresh
show check
show check --json
