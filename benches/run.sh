#!/usr/bin/env bash
# Benchmark harness: s1trust's user-facing paths against the emulated tenant on loopback,
# each beside the floor it is judged by, measured in one run on this machine.
#
#   bash benches/run.sh [--runs N] [--warmup N] [--no-build] [--no-windows] [--fleet]
#   bash benches/run.sh [--runs N] [--warmup N] --compare NAME=BINARY [NAME=BINARY ...]
#
#   --runs N       timed runs per command (default 30), after --warmup N (default 5)
#   --no-build     use the binaries already in target/release
#   --no-windows   skip the Windows size (else .ci/cross-windows-build runs when
#                  .ci/cross-setup's toolchain is installed)
#   --fleet        also run the fleet model at full size (200 refreshes starting over
#                  10 s, one token limited to 20 requests/s; the integration test `fleet`,
#                  which CI runs smaller) into fleet.txt. It runs the test build: the fake
#                  devices' identity hook does not exist in a release build
#   --compare      measure several s1trust binaries side by side in one run (e.g. before and
#                  after, or release-profile variants); the emulator comes from target/release
#
# What it measures (hyperfine, wall time; GNU time for peak RSS; the emulator's request log):
#   check --json from a fresh snapshot          beside  cat of the snapshot (its floor)
#   check --live --json (agent UUID known)      beside  one curl of the same agents?uuids= URL
#   lookup --serial PF2ABCDE                    beside  one curl of the same agents URL, and a
#                                                       curl | jq script doing the exact-serial lookup
#   identity --json on a fake device
#   lookup --serial over 5 000 matching records (5 pages)  beside  one curl fetching those 5 pages
#   plus HTTP requests per command, and the stripped binary sizes (Linux, Windows).
#
# Every request goes to the emulator on 127.0.0.1. Needs root: the device (DMI serial,
# /opt/sentinelone/bin/sentinelctl) is faked in a private mount namespace, and `check` trusts
# only root-owned files. Tools: hyperfine, curl, jq, python3, GNU time, strace (installed with
# apt-get when missing). Results: target/bench/ (results.md is the table).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

runs=30 warmup=5 build=1 windows=1 fleet=0 compare=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --no-windows) windows=0; shift ;;
    --fleet) fleet=1; shift ;;
    --compare) shift; compare=("$@"); [ $# -gt 0 ] || { echo "--compare needs NAME=BINARY" >&2; exit 2; }; break ;;
    -h | --help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

[ "$(id -u)" = 0 ] || { echo "benches/run.sh needs root (mount namespace for the fake device)" >&2; exit 2; }
tools=(hyperfine curl jq python3 /usr/bin/time unshare strip strace)
missing() { local t; for t in "${tools[@]}"; do command -v "$t" >/dev/null || echo "$t"; done; }
if [ -n "$(missing)" ] && command -v apt-get >/dev/null; then
  echo "installing the measuring tools (hyperfine curl jq time strace) ..." >&2
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      hyperfine curl jq time strace; } > /dev/null || { echo "apt-get install failed" >&2; exit 2; }
fi
[ -z "$(missing)" ] || { echo "missing: $(missing | paste -sd' ') (apt-get install hyperfine curl jq time strace)" >&2; exit 2; }

if [ "$build" = 1 ]; then
  echo "building (release) ..." >&2
  # Two builds: one cargo run for both would unify their features, and the emulator's
  # aws-lc would end up in the s1trust measured here but not in the one shipped.
  nice -n 10 cargo build --quiet --release -p s1trust --bin s1trust
  nice -n 10 cargo build --quiet --release -p s1-emulator
fi
emulator=$root/target/release/s1-emulator
# labels[i] names binaries[i]; one unnamed binary unless --compare.
labels=() binaries=()
if [ "${#compare[@]}" -eq 0 ]; then
  labels=("")
  binaries=("$root/target/release/s1trust")
else
  windows=0
  for spec in "${compare[@]}"; do
    case "$spec" in *=*) ;; *) echo "--compare takes NAME=BINARY, not $spec" >&2; exit 2 ;; esac
    labels+=("${spec%%=*}")
    binaries+=("$(realpath "${spec#*=}")")
  done
fi
for bin in "$emulator" "${binaries[@]}"; do
  [ -x "$bin" ] || { echo "no binary $bin (build first, or run without --no-build)" >&2; exit 2; }
done

out=${BENCH_OUT:-$root/target/bench}
mkdir -p "$out"
rm -f "$out"/*.requests "$out"/*.out
# Not in /tmp: no trusted file may sit below a folder others can write, sticky or not.
mkdir -p target/tmp
work=$(mktemp -d "$PWD/target/tmp/s1trust.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
umask 022
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the tenant: the bundled fixtures, and a second one holding 5 000 records for one serial
token=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
(umask 077 && printf '%s\n' "$token" > "$work/bench.token" &&
  printf 'Authorization: ApiToken %s\n' "$token" > "$work/curl.headers")
python3 - "$root/tests/emulator/fixtures/agents.json" "$work/bulk.json" <<'PY'
import copy, json, sys
template = json.load(open(sys.argv[1]))[0]
records = []
for i in range(5000):
    r = copy.deepcopy(template)
    r["id"] = str(1900000000000000000 + i)
    r["uuid"] = f"b0{i:030x}"
    r["computerName"] = f"BULK-{i:05d}"
    # One exact match (the only active one); 4 999 records whose serial merely contains it.
    r["serialNumber"] = "BULK5K" if i == 0 else f"BULK5K-{i:05d}"
    r["isActive"] = i == 0
    records.append(r)
json.dump(records, open(sys.argv[2], "w"))
PY

start_emulator() { # NAME [ARGS...]
  local name=$1
  shift
  S1_EMULATOR_TOKEN="$token" "$emulator" --ca-out "$work/$name-ca.pem" --url-file "$work/$name.url" "$@" \
    > /dev/null 2> "$work/$name.log" &
  pids+=($!)
  for _ in $(seq 1 200); do [ -s "$work/$name.url" ] && return 0; sleep 0.05; done
  echo "emulator $name did not start:" >&2
  cat "$work/$name.log" >&2
  exit 1
}
start_emulator main
start_emulator bulk --agents "$work/bulk.json"
url=$(cat "$work/main.url")
bulk_url=$(cat "$work/bulk.url")
case "$url $bulk_url" in
  "https://127.0.0.1:"*" https://127.0.0.1:"*) ;;
  *) echo "the emulator is not on loopback: $url $bulk_url" >&2; exit 1 ;;
esac

cat > "$work/config.toml" <<TOML
[[integration]]
name = "bench"
url = "$url"
token_file = "bench.token"
ca_file = "main-ca.pem"

[snapshot]
path = "$work/state/posture.json"
TOML

# --- the device: fixture laptop CONTOSO-LT-0142 (serial PF2ABCDE, agent a3f1c9e2…)
# shellcheck source=benches/fake-device.sh
source "$root/benches/fake-device.sh"
fake_device_files "$work"

# The curl | jq script: the same exact-serial lookup (substring query, then an exact,
# case-insensitive match, live and most recently active first), as a shell script does it.
cat > "$work/curl-jq.sh" <<SH
#!/bin/sh
set -e
serial=\$1
curl -sS --fail --cacert "$work/main-ca.pem" -H @"$work/curl.headers" \\
  "$url/web/api/v2.1/agents?serialNumber__contains=\$serial&limit=1000&isDecommissioned=true,false&isUninstalled=true,false" |
  jq -e --arg s "\$serial" '[.data[] | select((.serialNumber // "" | ascii_downcase) == (\$s | ascii_downcase))]
    | sort_by([(.isDecommissioned or .isUninstalled | not), .isActive, .lastActiveDate]) | last'
SH

# --- inside a private mount namespace: the fake device, then every measurement
printf '%s\n' "${labels[@]}" > "$work/labels"
printf '%s\n' "${binaries[@]}" > "$work/binaries"
export root work out url bulk_url runs warmup
cat > "$work/inner.sh" <<'SH'
set -euo pipefail
# shellcheck source=benches/fake-device.sh
source "$root/benches/fake-device.sh"
fake_device_mount "$work"
export S1TRUST_CONFIG="$work/config.toml"
mapfile -t labels < "$work/labels"
mapfile -t binaries < "$work/binaries"
conn="--url $url --token-file $work/bench.token --ca-file $work/main-ca.pem"
bulk_conn="--url $bulk_url --token-file $work/bench.token --ca-file $work/bulk-ca.pem"
curl_main="curl -sS --fail -o /dev/null --cacert $work/main-ca.pem -H @$work/curl.headers"
curl_bulk="curl -sS --fail --cacert $work/bulk-ca.pem -H @$work/curl.headers"

# The requests one command makes, from the emulator's log (one line per request).
requests_of() { # NAME LOG CMD...
  local name=$1 log=$2 before after
  shift 2
  before=$(wc -l < "$log")
  "$@" > "$out/$name.out" || true
  sleep 0.3
  after=$(wc -l < "$log")
  sed -n "$((before + 1)),${after}p" "$log" | grep -E '^(GET|POST) ' > "$out/$name.requests" || true
}
"${binaries[0]}" refresh
for i in "${!binaries[@]}"; do
  s1=${binaries[i]} tag=${labels[i]:+${labels[i]}.}
  # shellcheck disable=SC2086 # $conn and $bulk_conn are lists of words
  {
    requests_of "${tag}check-live" "$work/main.log" "$s1" check --live --json
    requests_of "${tag}lookup-serial" "$work/main.log" "$s1" lookup --serial PF2ABCDE $conn
    requests_of "${tag}lookup-bulk" "$work/bulk.log" "$s1" lookup --serial BULK5K $bulk_conn
  }
  "$s1" check --json > "$out/${tag}check.out"
  # The login path's promise (no network, no child process, not even a thread), traced.
  strace -f -qq -e trace=execve,socket,connect,clone,clone3,fork,vfork \
    -o "$out/${tag}check.strace" "$s1" check --json > /dev/null
  "$s1" identity --json > "$out/${tag}identity.out" || true
done
sh "$work/curl-jq.sh" PF2ABCDE > "$out/curl-jq.out"

# The floors request exactly what s1trust requested (path and query from the log).
first=${labels[0]:+${labels[0]}.}
paths_of() { sed -E 's/^GET ([^ ]+) .*/\1/' "$out/$1.requests"; }
uuid_url=$url$(paths_of "${first}check-live" | head -1)
serial_url=$url$(paths_of "${first}lookup-serial" | head -1)
bulk_pages=""
# URLs are single-quoted: they hold '&', and hyperfine and sh both split these strings.
while read -r path; do bulk_pages+=" -o /dev/null '$bulk_url$path'"; done < <(paths_of "${first}lookup-bulk")

commands=(
  "cat snapshot" "cat $work/state/posture.json"
  "curl agents?uuids= (1 request)" "$curl_main '$uuid_url'"
  "curl agents?serialNumber__contains= (1 request)" "$curl_main '$serial_url'"
  "curl | jq exact-serial lookup" "sh $work/curl-jq.sh PF2ABCDE"
  "curl 5 pages (5 000 records)" "$curl_bulk$bulk_pages"
)
for i in "${!binaries[@]}"; do
  s1=${binaries[i]} tag=${labels[i]:+${labels[i]}: }
  commands+=(
    "${tag}check --json (fresh snapshot)" "$s1 check --json"
    "${tag}check --live --json" "$s1 check --live --json"
    "${tag}lookup --serial" "$s1 lookup --serial PF2ABCDE $conn"
    "${tag}identity --json (fake device)" "$s1 identity --json"
    "${tag}lookup --serial, 5 000 records (5 pages)" "$s1 lookup --serial BULK5K $bulk_conn"
  )
done
hf=()
: > "$out/rss.tsv"
for ((i = 0; i < ${#commands[@]}; i += 2)); do
  name=${commands[i]} cmd=${commands[i + 1]}
  hf+=(-n "$name" "$cmd")
  # Peak RSS: the largest of 5 runs (GNU time, KiB).
  peak=0
  for _ in 1 2 3 4 5; do
    /usr/bin/time -f %M -o "$work/rss" sh -c "exec $cmd > /dev/null 2>&1" || true
    kib=$(tail -1 "$work/rss")
    [ "$kib" -gt "$peak" ] && peak=$kib
  done
  printf '%s\t%s\n' "$name" "$peak" >> "$out/rss.tsv"
done
# One hyperfine run for every command, so they share the machine's state. -N: no shell in
# between (the curl | jq script pays for its own sh, as it would in real use). -i: identity
# exits 1 here (no agent process runs); the answers are checked after the run instead.
hyperfine -N -i --runs "$runs" --warmup "$warmup" --style basic \
  --export-json "$out/hyperfine.json" "${hf[@]}"
SH
unshare -m bash "$work/inner.sh"

# --- sizes: a stripped copy of each binary
stripped_size() { # STRIP FILE
  "$1" -o "$work/stripped" "$2" && stat -c %s "$work/stripped"
}
: > "$out/sizes.tsv"
for i in "${!binaries[@]}"; do
  size=$(stripped_size strip "${binaries[i]}") # an assignment, so set -e sees a failure
  printf '%s\tlinux\t%s\n' "${labels[i]}" "$size" >> "$out/sizes.tsv"
done
if [ "$windows" = 1 ] && [ -x /usr/bin/rustc ] && command -v x86_64-w64-mingw32-strip >/dev/null; then
  echo "building s1trust.exe (.ci/cross-windows-build) ..." >&2
  nice -n 10 bash .ci/cross-windows-build > "$out/cross-windows-build.log" 2>&1 ||
    { echo "cross-windows-build failed, see $out/cross-windows-build.log" >&2; exit 1; }
  exe=${CROSS_TARGET_DIR:-$root/target/cross}/out/s1trust.exe
  size=$(stripped_size x86_64-w64-mingw32-strip "$exe")
  printf '\twindows\t%s\n' "$size" >> "$out/sizes.tsv"
fi

# --- machine and report
{
  echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
  echo "memory $(free -g | awk '/^Mem:/ {print $2}') GiB; Linux $(uname -r); $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "load average before the run: $load_before"
  echo "$(hyperfine --version), $(curl --version | head -1 | cut -d' ' -f1-2,5), $(jq --version)"
} > "$out/machine.txt"
printf '%s\n' "${labels[@]}" > "$out/labels.txt"
# The login path's system calls, then the report.
for i in "${!labels[@]}"; do
  tag=${labels[i]:+${labels[i]}.}
  trace=$out/${tag}check.strace
  execs=$(grep -c 'execve(' "$trace" || true)
  sockets=$(grep -cE '(socket|connect)\(' "$trace" || true)
  spawns=$(grep -cE '(clone3?|v?fork)\(' "$trace" || true)
  printf '%s\t%s\t%s\t%s\n' "${labels[i]}" "$execs" "$sockets" "$spawns"
  [ "$execs" = 1 ] && [ "$sockets" = 0 ] && [ "$spawns" = 0 ] ||
    { echo "${tag}check --json: $execs exec(s), $sockets socket call(s), $spawns process/thread start(s); see $trace" >&2; exit 1; }
done > "$out/login-path.tsv"
python3 "$root/benches/report.py" "$out" "$runs" "$warmup"

# Sanity: the measured commands gave the expected answers.
for i in "${!labels[@]}"; do
  tag=${labels[i]:+${labels[i]}.}
  grep -q '"result": "trusted"' "$out/${tag}check.out" || { echo "${tag}check did not answer trusted" >&2; exit 1; }
  grep -q '"result": "trusted"' "$out/${tag}check-live.out" || { echo "${tag}check --live did not answer trusted" >&2; exit 1; }
  grep -q '"serialNumber": "PF2ABCDE"' "$out/${tag}lookup-serial.out" || { echo "${tag}lookup --serial found nothing" >&2; exit 1; }
  grep -q '"serialNumber": "BULK5K"' "$out/${tag}lookup-bulk.out" || { echo "${tag}5 000-record lookup found nothing" >&2; exit 1; }
done
grep -q '"serialNumber": "PF2ABCDE"' "$out/curl-jq.out" || { echo "the curl | jq script found nothing" >&2; exit 1; }

# --- the fleet model at full size
if [ "$fleet" = 1 ]; then
  echo "fleet model: 200 devices over 10 s against 20 requests/s ..." >&2
  S1TRUST_FLEET_DEVICES=200 S1TRUST_FLEET_SPREAD_SECS=10 S1TRUST_FLEET_LIMIT=20 \
    cargo test --quiet --test it fleet -- --ignored --nocapture > "$out/fleet.log" 2>&1 ||
    { cat "$out/fleet.log" >&2; echo "the fleet model failed" >&2; exit 1; }
  grep -E '^fleet:' "$out/fleet.log" | tee "$out/fleet.txt"
fi
