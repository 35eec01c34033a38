#!/usr/bin/env bash
# Signed verdicts, end to end, on this machine (docs/verdicts.md "Cost"):
#   refresh (evaluation + snapshot + verdict)          beside  nothing: the signing share is
#                                                              `cargo bench --bench verdict_sign`
#   check --jwt                                        beside  cat verdict.jwt (the floor) and
#                                                              check --json
#   check --jwt --nonce (client process + signer)      and     one socket round trip, in process
#
#   bash benches/verdict.sh [--runs N] [--no-build]
#
# Needs root (the state files must be root's) and hyperfine (apt-get install hyperfine).
# The configuration has no tenant, so every answer is `unknown`: the cost of reading,
# judging and signing a snapshot does not depend on what it says. Results on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=100 build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    *) echo "usage: bash benches/verdict.sh [--runs N] [--no-build]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "benches/verdict.sh needs root" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "missing hyperfine (apt-get install hyperfine)" >&2; exit 2; }
[ "$build" = 0 ] || nice -n 10 cargo build --quiet --release -p s1trust --bin s1trust
bin=$PWD/target/release/s1trust

# Not in /tmp: no trusted file may sit below a folder others can write.
mkdir -p target/tmp
work=$(mktemp -d "$PWD/target/tmp/verdict-bench.XXXXXX")
chmod 0755 "$work"
signer=
trap '[ -z "$signer" ] || kill "$signer" 2>/dev/null; rm -rf "$work"' EXIT
config=$work/config.toml
printf '[snapshot]\npath = "%s/state/posture.json"\n' "$work" >"$config"
chmod 0644 "$config"
socket=$work/run/attest.sock

start=$(date +%s%N)
"$bin" --config "$config" refresh || true
echo "first refresh (creates the key): $(( ($(date +%s%N) - start) / 1000000 )) ms"

hyperfine -N -i --warmup 5 --runs "$runs" \
  "$bin --config $config refresh" \
  "cat $work/state/verdict.jwt" \
  "$bin --config $config check --jwt" \
  "$bin --config $config check --json"

"$bin" --config "$config" attest --listen "$socket" &
signer=$!
for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.05; done
hyperfine -N -i --warmup 5 --runs "$runs" \
  "$bin --config $config check --jwt --nonce q3Jx0c9vTg2pS1Jk --socket $socket"
python3 - "$socket" <<'PY'
import socket, sys, time
path, rounds = sys.argv[1], 500
def once():
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b'{"nonce":"q3Jx0c9vTg2pS1Jk"}\n')
    answer = b""
    while not answer.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        answer += chunk
    s.close()
    assert b'"token"' in answer, answer
once()
started = time.perf_counter()
for _ in range(rounds):
    once()
print(f"signer round trip (connect, read and judge the snapshot, sign, answer): "
      f"{(time.perf_counter() - started) / rounds * 1e6:.0f} µs mean over {rounds}")
PY
