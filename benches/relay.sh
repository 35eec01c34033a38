#!/usr/bin/env bash
# Relay benchmark: s1trust-relay holding a large emulated tenant, on loopback.
#
#   bash benches/relay.sh [--agents N] [--requests N] [--concurrency C] [--runs N] [--no-build]
#
#   --agents N        agents in the emulated tenant (default 100000)
#   --requests N      lookups the load generator sends (default 50000)
#   --concurrency C   lookups in flight at once, as many devices would keep (default 64)
#   --runs N          hyperfine runs of check --live and its curl floor (default 20)
#   --no-build        use the binaries already in target/release
#
# What it measures, into target/bench-relay/ (results.md is the table):
#   - the sync: tenant requests against the minimum (one page per 1000 agents), its
#     duration, and the relay's memory (VmRSS, VmHWM) with the inventory held;
#   - lookups: benches/relay_load.rs keeps C lookups in flight (uuid and exact serial,
#     alternating) and reports lookups per second and p50/p99 latency;
#   - a device: `s1trust check --live --json` through the relay, beside one curl of the
#     relay's same lookup (its floor), on a fake device in a private mount namespace.
# The relay serves plain HTTP on loopback here (plain_http_on_loopback), and so does the
# curl it is compared with; the tenant is the emulator over TLS. Needs root (the fake
# device, and token files must be root's). Tools: hyperfine, curl, jq (apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

agents=100000 requests=50000 concurrency=64 runs=20 build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --agents) agents=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "benches/relay.sh needs root (token files, fake device)" >&2; exit 2; }
for tool in hyperfine curl jq; do
  command -v "$tool" >/dev/null && continue
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends hyperfine curl jq > /dev/null ||
    { echo "missing $tool (apt-get install hyperfine curl jq)" >&2; exit 2; }
done

if [ "$build" = 1 ]; then
  echo "building (release) ..." >&2
  # Separate builds, as in benches/run.sh: the emulator's aws-lc must not reach s1trust.
  nice -n 10 cargo build --quiet --release -p s1trust --bin s1trust --bin s1trust-relay
  nice -n 10 cargo build --quiet --release --bench relay_load
  nice -n 10 cargo build --quiet --release -p s1-emulator
fi
s1=$root/target/release/s1trust
relay=$root/target/release/s1trust-relay
emulator=$root/target/release/s1-emulator
load=$(find "$root/target/release/deps" -maxdepth 1 -type f -executable -name 'relay_load-*' -printf '%T@ %p\n' |
  sort -n | tail -1 | cut -d' ' -f2)
for bin in "$s1" "$relay" "$emulator" "$load"; do
  [ -x "$bin" ] || { echo "no binary ${bin:-relay_load} (build first, or run without --no-build)" >&2; exit 2; }
done

out=${BENCH_OUT:-$root/target/bench-relay}
mkdir -p "$out" target/tmp
work=$(mktemp -d "$root/target/tmp/relay-bench.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
umask 022
chmod 0755 "$work"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- the tenant: the bundled fixtures (the fake device's laptop among them) plus N generated agents
token=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
secret=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
(umask 077 && printf '%s\n' "$token" > "$work/tenant.token" && printf '%s\n' "$secret" > "$work/relay.secret")
echo "starting the emulated tenant with $agents generated agents ..." >&2
S1_EMULATOR_TOKEN="$token" "$emulator" --agents "$root/tests/emulator/fixtures/agents.json" \
  --generate-agents "$agents" --ca-out "$work/tenant-ca.pem" --url-file "$work/tenant.url" \
  > /dev/null 2> "$work/tenant.log" &
pids+=($!)
for _ in $(seq 1 600); do [ -s "$work/tenant.url" ] && break; sleep 0.1; done
[ -s "$work/tenant.url" ] || { cat "$work/tenant.log" >&2; echo "the emulator did not start" >&2; exit 1; }
tenant=$(cat "$work/tenant.url")
case "$tenant" in https://127.0.0.1:*) ;; *) echo "the emulator is not on loopback: $tenant" >&2; exit 1 ;; esac

# --- the relay
relay_port=$(port) ops_port=$(port)
cat > "$work/relay.toml" <<TOML
[server]
listen = "127.0.0.1:$relay_port"
plain_http_on_loopback = true
secret_files = ["relay.secret"]
ops_listen = "127.0.0.1:$ops_port"
per_client_rate = 1000000
per_client_burst = 1000000

[sync]
interval = "1h"
max_requests_per_second = 25

[[integration]]
name = "bench"
url = "$tenant"
token_file = "tenant.token"
ca_file = "tenant-ca.pem"
TOML
requests_before=$(grep -cE '^GET ' "$work/tenant.log" || true)
started=$(date +%s.%N)
"$relay" --config "$work/relay.toml" run > /dev/null 2> "$work/relay.log" &
relay_pid=$!
pids+=("$relay_pid")
ops=http://127.0.0.1:$ops_port
until curl -sf -o /dev/null "$ops/readyz"; do
  kill -0 "$relay_pid" 2>/dev/null || { cat "$work/relay.log" >&2; echo "the relay stopped" >&2; exit 1; }
  sleep 0.1
done
ready=$(date +%s.%N)
sync_requests=$(( $(grep -cE '^GET ' "$work/tenant.log") - requests_before ))
held=$(curl -sf "$ops/metrics" | awk '/^s1trust_relay_agents\{/ {print $2}')
min_pages=$(( (held + 999) / 1000 ))
[ "$sync_requests" = "$min_pages" ] ||
  { echo "the sync made $sync_requests tenant requests for $held agents (minimum $min_pages)" >&2; exit 1; }
rss() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$relay_pid/status"; }
rss_synced=$(rss VmRSS)

# --- lookups under load: uuid and exact serial, alternating, from the tenant's first page
curl -sf --cacert "$work/tenant-ca.pem" -H "Authorization: ApiToken $token" \
  "$tenant/web/api/v2.1/agents?limit=1000" |
  jq -r '.data[] | select(.serialNumber != null and (.serialNumber | length) > 5) | "uuid=\(.uuid)\nserial=\(.serialNumber)"' \
  > "$work/keys"
relay_url=http://127.0.0.1:$relay_port
echo "lookups: $requests at concurrency $concurrency ..." >&2
"$load" --url "$relay_url" --secret-file "$work/relay.secret" --keys "$work/keys" \
  --requests "$requests" --concurrency "$concurrency" > "$out/load.json"
rss_loaded=$(rss VmRSS) hwm=$(rss VmHWM)

# --- one device: check --live through the relay beside one curl of the same lookup
cat > "$work/config.toml" <<TOML
[[integration]]
name = "bench"
url = "$tenant"
relay = "$relay_url"
relay_secret_file = "relay.secret"

[snapshot]
path = "$work/state/posture.json"
TOML
# shellcheck source=benches/fake-device.sh
source "$root/benches/fake-device.sh"
fake_device_files "$work"
(umask 077 && printf 'Authorization: Bearer %s\nx-s1trust-console: %s\n' "$secret" "$tenant" > "$work/curl.headers")
export root work out s1 runs relay_url
cat > "$work/inner.sh" <<'SH'
set -euo pipefail
# shellcheck source=benches/fake-device.sh
source "$root/benches/fake-device.sh"
fake_device_mount "$work"
export S1TRUST_CONFIG="$work/config.toml"
"$s1" check --live --json > "$out/check-live.out" || true
floor="curl -sS --fail -o /dev/null -H @$work/curl.headers '$relay_url/web/api/v2.1/agents?uuids=a3f1c9e2b7d84e6f9a0b1c2d3e4f5a6b&limit=100&isDecommissioned=true,false&isUninstalled=true,false'"
hyperfine -N --runs "$runs" --warmup 3 --style basic --export-json "$out/hyperfine.json" \
  -n "s1trust check --live --json (through the relay)" "$s1 check --live --json" \
  -n "curl of the relay (the same lookup)" "$floor"
SH
unshare -m bash "$work/inner.sh"
grep -q '"result": "trusted"' "$out/check-live.out" || { cat "$out/check-live.out" >&2; echo "check --live through the relay did not answer trusted" >&2; exit 1; }

python3 - "$out" "$agents" "$held" "$sync_requests" "$min_pages" "$started" "$ready" \
  "$rss_synced" "$rss_loaded" "$hwm" <<'PY'
import json, sys
out, agents, held, sync_requests, pages, started, ready, rss_synced, rss_loaded, hwm = sys.argv[1:]
load = json.load(open(f"{out}/load.json"))
runs = {r["command"]: r for r in json.load(open(f"{out}/hyperfine.json"))["results"]}
(check_name, check), (curl_name, curl) = list(runs.items())
mib = lambda kib: f"{int(kib) / 1024:.0f} MiB"
lines = [
    "| measure | value |",
    "|---|---|",
    f"| agents held (generated + fixtures) | {held} (asked for {agents}) |",
    f"| tenant requests for the first sync | {sync_requests} (minimum: {pages} pages of 1000) |",
    f"| time to ready (start, full sync at 25 requests/s) | {float(ready) - float(started):.1f} s |",
    f"| relay memory after the sync (VmRSS) | {mib(rss_synced)} |",
    f"| relay memory after the load (VmRSS / peak VmHWM) | {mib(rss_loaded)} / {mib(hwm)} |",
    f"| lookups per second ({load['concurrency']} in flight, {load['requests']} lookups) | {load['perSecond']:.0f} |",
    f"| lookup latency p50 / p99 / max | {load['p50Ms']:.2f} / {load['p99Ms']:.2f} / {load['maxMs']:.2f} ms |",
    f"| {check_name} | {check['median'] * 1000:.1f} ms median |",
    f"| {curl_name} | {curl['median'] * 1000:.1f} ms median ({check['median'] / curl['median']:.2f} ×) |",
]
open(f"{out}/results.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
