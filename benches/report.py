"""Turns benches/run.sh's measurements into the Markdown table (results.md) and summary.json.

Usage: python3 benches/report.py OUT_DIR RUNS WARMUP
"""

import json
import os
import sys

out, runs, warmup = sys.argv[1], sys.argv[2], sys.argv[3]
results = {r["command"]: r for r in json.load(open(f"{out}/hyperfine.json"))["results"]}
rss = dict(line.rstrip("\n").split("\t") for line in open(f"{out}/rss.tsv"))
labels = [line.rstrip("\n") for line in open(f"{out}/labels.txt")]
sizes = [line.rstrip("\n").split("\t") for line in open(f"{out}/sizes.tsv")]
login = [line.rstrip("\n").split("\t") for line in open(f"{out}/login-path.tsv")]
machine = open(f"{out}/machine.txt").read().strip().splitlines()


def quantile(times, p):
    s = sorted(times)
    k = (len(s) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def stats(name):
    r = results[name]
    t = r["times"]
    return {
        "cpu_ms": (r["user"] + r["system"]) * 1000,
        "median_ms": quantile(t, 0.5) * 1000,
        "p90_ms": quantile(t, 0.9) * 1000,
        "min_ms": min(t) * 1000,
        "max_ms": max(t) * 1000,
        "peak_rss_kib": int(rss[name]),
    }


def requests(name):
    path = f"{out}/{name}.requests"
    return sum(1 for _ in open(path)) if os.path.exists(path) else None


ms = lambda v: f"{v:.1f} ms"
mib = lambda kib: f"{kib / 1024:.1f} MiB"
mb = lambda b: f"{int(b) / 1e6:.2f} MB"

CAT = "cat snapshot"
UUID = "curl agents?uuids= (1 request)"
SERIAL = "curl agents?serialNumber__contains= (1 request)"
PAGES = "curl 5 pages (5 000 records)"
# (command, its floor, target)
ROWS = [
    (CAT, None, ""),
    ("check --json (fresh snapshot)", CAT, "≤ 2 × cat"),
    (UUID, None, ""),
    ("check --live --json", UUID, "≤ 1.2 × curl"),
    (SERIAL, None, ""),
    ("curl | jq exact-serial lookup", SERIAL, ""),
    ("lookup --serial", SERIAL, "≤ 0.8 × curl"),
    ("identity --json (fake device)", None, ""),
    (PAGES, None, ""),
    ("lookup --serial, 5 000 records (5 pages)", PAGES, "RSS ≤ 40 MiB"),
]
FLOORS = {CAT, UUID, SERIAL, PAGES, "curl | jq exact-serial lookup"}
REQUESTS = {
    "check --live --json": "check-live",
    "lookup --serial": "lookup-serial",
    "lookup --serial, 5 000 records (5 pages)": "lookup-bulk",
}

summary = {"machine": machine, "runs": int(runs), "warmup": int(warmup), "commands": {}, "sizes": sizes, "login_path": login}
lines = []
if labels == [""]:
    lines += [
        "| command | median | p90 | spread (min–max) | ratio to floor | target | CPU | peak RSS | requests |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for name, floor, target in ROWS:
        s = stats(name)
        ratio = f"{s['median_ms'] / stats(floor)['median_ms']:.2f} ×" if floor else "floor" if name in FLOORS else ""
        req = requests(REQUESTS[name]) if name in REQUESTS else None
        s["requests"] = req
        summary["commands"][name] = s
        lines.append(
            f"| `{name}` | {ms(s['median_ms'])} | {ms(s['p90_ms'])} | {ms(s['min_ms'])}–{ms(s['max_ms'])} "
            f"| {ratio} | {target} | {ms(s['cpu_ms'])} | {mib(s['peak_rss_kib'])} | {'' if req is None else req} |"
        )
    lines.append("")
    for label, os_name, size in sizes:
        lines.append(f"Stripped binary, {os_name} x86_64: {mb(size)} ({int(size):,} bytes).")
else:
    head = "| command | " + " | ".join(f"{l}: median (p90)" for l in labels) + " |"
    lines += [head, "| --- |" + " ---: |" * len(labels)]
    for name, floor, _ in ROWS:
        if name in FLOORS:
            s = stats(name)
            summary["commands"][name] = s
            lines.append(f"| `{name}` (floor) | {ms(s['median_ms'])} ({ms(s['p90_ms'])}), CPU {ms(s['cpu_ms'])}" + " |" * len(labels))
            continue
        cells = []
        for label in labels:
            s = stats(f"{label}: {name}")
            summary["commands"][f"{label}: {name}"] = s
            ratio = f", {s['median_ms'] / stats(floor)['median_ms']:.2f} × floor" if floor else ""
            cells.append(f"{ms(s['median_ms'])} ({ms(s['p90_ms'])}){ratio}, CPU {ms(s['cpu_ms'])}, {mib(s['peak_rss_kib'])}")
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines.append("| stripped size (Linux) | " + " | ".join(mb(size) for _, _, size in sizes) + " |")
    reqs = [requests(f"{label}.check-live") for label in labels]
    lines.append("| requests per `check --live` | " + " | ".join(str(r) for r in reqs) + " |")
lines.append("")
for label, execs, sockets, spawns in login:
    who = f"{label}: " if label else ""
    lines.append(
        f"{who}`check --json` under strace: {execs} program start (its own), {sockets} socket calls, "
        f"{spawns} processes or threads started."
    )
lines.append("")
lines.append(
    f"{runs} runs after {warmup} warm-up runs per command (hyperfine -N, wall time); "
    "CPU: mean user + system time; peak RSS: the largest of 5 runs (GNU time)."
)
text = "\n".join(lines) + "\n\nMachine: " + "; ".join(machine) + ".\n"
open(f"{out}/results.md", "w").write(text)
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)
print(text)
