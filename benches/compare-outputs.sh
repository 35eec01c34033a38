#!/usr/bin/env bash
# Runs the integration-test scenarios against two s1trust builds and compares every
# captured stdout after masking what differs run to run (timestamps, temp folders,
# loopback ports, durations). Used to show that a refactor leaves the JSON of
# `check --json`, `identity --json`, `lookup` and `integration test --json` unchanged.
#
#   bash benches/compare-outputs.sh OLD_COMMIT      # e.g. the commit before the refactor
#
# The old build must accept the same arguments; tests that exercise behaviour added
# since then fail under it (expected); only scenarios that passed under both compare.
set -euo pipefail
cd "$(dirname "$0")/.."
old_commit=${1:?usage: compare-outputs.sh OLD_COMMIT}
# Not in /tmp: no trusted file may sit below a folder others can write, sticky or not.
mkdir -p target/tmp
work=$(mktemp -d "$PWD/target/tmp/s1trust.XXXXXX")
trap 'git worktree remove --force "$work/tree" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

git worktree add --detach "$work/tree" "$old_commit" >/dev/null
cargo build --quiet --manifest-path "$work/tree/Cargo.toml" --target-dir "$work/target" --bin s1trust
old_bin="$work/target/debug/s1trust"
cargo build --quiet --tests

run_suite() { # $1 capture dir, $2 binary (empty: this build), $3 list of passing tests out
    mkdir -p "$1"
    env S1TRUST_CAPTURE_DIR="$1" ${2:+S1TRUST_BIN="$2"} cargo test --test it -- \
        --test-threads 2 2>/dev/null | sed -n 's/^test \(.*\) \.\.\. ok$/\1/p' | sort > "$3" || true
}
run_suite "$work/old" "$old_bin" "$work/old.ok"
run_suite "$work/new" "" "$work/new.ok"

mask() {
    sed -E \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}| UTC)?/<time>/g' \
        -e 's#/tmp/\.tmp[A-Za-z0-9]+#<tmp>#g' \
        -e 's#/[^ "]*/target/tmp/scratch/\.tmp[A-Za-z0-9]+#<tmp>#g' \
        -e 's/127\.0\.0\.1:[0-9]+/127.0.0.1:<port>/g' \
        -e 's/"(latencyMs|latency_ms|elapsedMs)": [0-9]+/"\1": <n>/g' \
        -e 's/ *[0-9]+ ms/ <n> ms/g' \
        -e 's/snapshot is [0-9a-z ]+ old/snapshot is <age> old/g' \
        -e 's/\(([0-9]+)s old,/(<n>s old,/g' \
        -e 's/"daysLeft": [0-9]+/"daysLeft": <n>/g' "$1"
}

same=0; differ=0; compared_tests=0
while read -r test; do
    prefix=${test//::/.}
    compared_tests=$((compared_tests + 1))
    for new_file in "$work/new/$prefix".*.out; do
        [ -e "$new_file" ] || continue
        old_file="$work/old/$(basename "$new_file")"
        if [ -e "$old_file" ] && diff -q <(mask "$old_file") <(mask "$new_file") >/dev/null; then
            same=$((same + 1))
        else
            differ=$((differ + 1))
            echo "--- differs: $(basename "$new_file")"
            diff <(mask "$old_file" 2>/dev/null || true) <(mask "$new_file") | head -20 || true
        fi
    done
done < <(comm -12 "$work/old.ok" "$work/new.ok")
echo "tests passing under both builds: $compared_tests; outputs identical: $same; differing: $differ"
