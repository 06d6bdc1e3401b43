#!/usr/bin/env python3
"""Results of bench/cross-shard: records one pgbench run, and writes the report of a whole run.

  cross_shard.py record --runs runs.jsonl --stdout out.txt --stderr err.txt --log-prefix DIR/tx \
                        --scripts point,count,top key=value ...   # appends one JSON line, deletes the tx logs
  cross_shard.py report DIR                                       # summary.txt and results.json

Standard library only (no pip on these machines).

Per script (pgbench's -f files, in -f order): transactions, TPS and average latency from pgbench's
own "SQL script N" sections (every transaction; with a single script, the run's totals), p50/p99
from the per-transaction log (--log, column 4 is the script's index; sampled with --sampling-rate).
A run is good when pgbench exited 0 and no client aborted. Ratios are taken round by round
against the one-server run of the same round: TPS (the worst round is the lowest ratio) and each
script's average latency (the worst round is the highest ratio).
"""
import json
import glob
import os
import re
import statistics
import sys

BASE = "one-server"


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def parse_meta(pairs):
    meta = {}
    for pair in pairs:
        k, _, v = pair.partition("=")
        try:
            meta[k] = int(v)
        except ValueError:
            try:
                meta[k] = float(v)
            except ValueError:
                meta[k] = v
    return meta


def pgbench_errors(err, out, names):
    """pgbench's error lines, client numbers stripped, script numbers named, counted; the LINE and
    caret lines after a server error are dropped (they repeat the statement with this run's values)."""
    errors = {}
    for line in (err + "\n" + out).splitlines():
        s = line.strip()
        if not s or s.startswith(("LINE ", "^", "number of failed", "- number of failed", "maximum number of tries")):
            continue
        if re.search(r"error|abort|FATAL|failed|could not|timed out|died", s, re.I):
            key = re.sub(r"client \d+", "client N", s)
            key = re.sub(r"script (\d+)", lambda m: m.group(0) + (
                f" ({names[int(m.group(1))]})" if int(m.group(1)) < len(names) else ""), key)[:300]
            errors[key] = errors.get(key, 0) + 1
    return errors


def record(args):
    opts, rest, i = {}, [], 0
    while i < len(args):
        if args[i] in ("--runs", "--stdout", "--stderr", "--log-prefix", "--scripts"):
            opts[args[i]] = args[i + 1]
            i += 2
        else:
            rest.append(args[i])
            i += 1
    meta = parse_meta(rest)
    names = opts["--scripts"].split(",")
    out = open(opts["--stdout"], errors="replace").read()
    err = open(opts["--stderr"], errors="replace").read() if os.path.exists(opts["--stderr"]) else ""

    def grab(pattern, text=out, cast=float):
        m = re.search(pattern, text, re.M)
        return cast(m.group(1)) if m else None

    tps = grab(r"^tps = ([\d.]+)")
    txns = grab(r"^number of transactions actually processed: (\d+)", cast=int)
    failed = grab(r"^number of failed transactions: (\d+)", cast=int) or 0
    lat_avg = grab(r"^latency average = ([\d.]+) ms")

    scripts = []
    if len(names) == 1:
        scripts.append({"name": names[0], "transactions": txns, "tps": tps, "latency_avg_ms": lat_avg,
                        "failed": failed})
    else:
        sections = re.split(r"^SQL script \d+: ", out, flags=re.M)[1:]
        for n, name in enumerate(names):
            s = sections[n] if n < len(sections) else ""
            m = re.search(r"^ - (\d+) transactions \([^)]*tps = ([\d.]+)\)", s, re.M)
            scripts.append({
                "name": name,
                "transactions": int(m.group(1)) if m else None,
                "tps": float(m.group(2)) if m else None,
                "latency_avg_ms": grab(r"^ - latency average = ([\d.]+) ms", s),
                "failed": grab(r"^ - number of failed transactions: (\d+)", s, int) or 0,
            })

    lat = {n: [] for n in range(len(names))}
    for f in glob.glob(opts["--log-prefix"] + ".*"):
        with open(f) as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 4 and parts[2].isdigit() and parts[3].isdigit():
                    lat.setdefault(int(parts[3]), []).append(int(parts[2]))
        os.remove(f)
    for n, s in enumerate(scripts):
        v = sorted(lat.get(n, []))
        s["logged"] = len(v)
        s["p50_ms"] = percentile(v, 50) / 1000.0 if v else None
        s["p99_ms"] = percentile(v, 99) / 1000.0 if v else None

    errors = pgbench_errors(err, out, names)
    # pgbench 15 ends a client at its first error, saying "client N ...": "aborted in command" for a
    # server's error, "command M query Q: expected one row, got K" for \gset.
    aborted = sum(n for e, n in errors.items() if re.match(r"pgbench: error: client N ", e))
    if not txns:
        errors["no transaction completed (pgbench exit " + str(meta.get("rc")) + ")"] = 1

    def per_tx(key):
        ticks = meta.pop(key, -1)
        if isinstance(ticks, int) and ticks >= 0 and txns:
            return ticks * 1e6 / meta.get("clk_tck", 100) / txns
        return None

    row = dict(meta)
    row.update({
        "tps": tps, "transactions": txns, "failed": failed, "latency_avg_ms": lat_avg,
        "aborted_clients": aborted, "scripts": scripts,
        "pooler_cpu_us_per_tx": per_tx("pooler_cpu_ticks"),
        "servers_cpu_us_per_tx": per_tx("servers_cpu_ticks"),
        "errors": [f"{n}x {e}" for e, n in sorted(errors.items(), key=lambda x: -x[1])[:10]],
    })
    row["ok"] = row.get("rc") == 0 and bool(txns) and aborted == 0
    with open(opts["--runs"], "a") as fh:
        fh.write(json.dumps(row) + "\n")

    per = "  ".join(f"{s['name']} {fmt(s['latency_avg_ms'], '.3f')} ms" for s in scripts)
    print(f"    {meta.get('phase', ''):7} {meta.get('target', ''):17} round {meta.get('round', '-')}: "
          f"tps {tps or 0:9.1f}  avg latency: {per}", flush=True)
    if not row["ok"]:
        print(f"    !!! {meta.get('target')} round {meta.get('round')} FAILED (pgbench exit {meta.get('rc')}, "
              f"{aborted} of {meta.get('clients')} clients aborted); pgbench's errors:", flush=True)
        for e in row["errors"]:
            print(f"    !!!   {e}", flush=True)


def fmt(v, spec):
    if v is not None:
        return format(v, spec)
    width = re.match(r"\d*", spec).group(0)
    return "-".rjust(int(width)) if width else "-"


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def report(d):
    meta = json.load(open(os.path.join(d, "meta.json")))
    path = os.path.join(d, "runs.jsonl")
    runs = [json.loads(l) for l in open(path)] if os.path.exists(path) else []
    measured = [r for r in runs if r.get("phase") == "measure"]
    names = meta["scripts"].split(",")
    targets = [t for t in meta["targets"].split(",") if any(r["target"] == t for r in measured)]
    by = {(r["target"], r["round"]): r for r in measured}
    rounds = sorted({r["round"] for r in measured})

    def script(r, name, field):
        for s in r.get("scripts", []):
            if s["name"] == name:
                return s.get(field)
        return None

    L = []
    L.append(f"Cross-shard workload  {meta.get('started')}  pgfleet {meta.get('pgfleet_git')}"
             + ("  (SMOKE RUN: short, not a result)" if meta.get("duration", 0) < 20 else ""))
    L.append(f"users: {meta.get('rows')} rows; one-server holds them all; PgFleet shards them over 2 servers by id "
             f"(pg_bigint_hash = PARTITION BY HASH modulus 2: {meta.get('rows_per_shard')} rows)")
    L.append(f"pgbench -M {meta.get('protocol')} -c {meta.get('clients')} -j {meta.get('jobs')} -T {meta.get('duration')} "
             f"(warm-up {meta.get('warmup')} s), {meta.get('rounds')} rounds, scripts {meta.get('script_spec')}; "
             f"per-transaction log sampled at {meta.get('tx_log_rate')}")
    L.append(f"host: {meta.get('host')}; {meta.get('postgres')}; {meta.get('pgbench')}"
             + (f"; PgBouncer {meta.get('pgbouncer')}" if meta.get("pgbouncer") else ""))
    for n in meta.get("notes") or []:
        L.append(f"NOTE: {n}")
    L.append("")
    L.append("Per run (latency: average over every transaction of the script, p50/p99 of the logged sample, ms;"
             " CPU: us per transaction, all scripts)")
    hdr = f"{'target':17} {'rnd':>3} {'TPS':>9}"
    for n in names:
        hdr += f" {(n + ' avg/p50/p99'):>24}"
    hdr += f" {'pooler CPU':>10} {'servers CPU':>11}  status"
    L.append(hdr)
    L.append("-" * len(hdr))
    for t in targets:
        for k in rounds:
            r = by.get((t, k))
            if not r:
                continue
            line = f"{t:17} {k:>3} {fmt(r['tps'], '9.1f')}"
            for n in names:
                line += " " + (f"{fmt(script(r, n, 'latency_avg_ms'), '.3f')}/{fmt(script(r, n, 'p50_ms'), '.3f')}/"
                               f"{fmt(script(r, n, 'p99_ms'), '.3f')}").rjust(24)
            line += f" {fmt(r.get('pooler_cpu_us_per_tx'), '10.1f')} {fmt(r.get('servers_cpu_us_per_tx'), '11.1f')}  "
            line += "ok" if r["ok"] else f"FAILED (exit {r.get('rc')}, {r.get('aborted_clients')} clients aborted)"
            L.append(line)

    results = {"meta": meta, "ratios": {}}
    L.append("")
    L.append(f"Against {BASE}, round by round (median of the rounds; worst round: lowest TPS ratio, highest latency ratio)")
    hdr = f"{'target':17} {'measure':22} {'median':>8} {'worst':>8} {'rounds':>7}  per round"
    L.append(hdr)
    L.append("-" * len(hdr))
    for t in targets:
        if t == BASE:
            continue
        res = {}
        measures = [("TPS", lambda r: r["tps"], True)]
        for n in names:
            measures.append((f"{n} latency avg", lambda r, n=n: script(r, n, "latency_avg_ms"), False))
            measures.append((f"{n} latency p99", lambda r, n=n: script(r, n, "p99_ms"), False))
        measures.append(("servers CPU/tx", lambda r: r.get("servers_cpu_us_per_tx"), False))
        for label, get, higher_better in measures:
            per = []
            for k in rounds:
                a, b = by.get((t, k)), by.get((BASE, k))
                if a and b and a["ok"] and b["ok"]:
                    per.append(ratio(get(a), get(b)))
            per = [p for p in per if p is not None]
            paired = len([k for k in rounds if (t, k) in by])
            if per:
                m, w = statistics.median(per), (min(per) if higher_better else max(per))
                res[label] = {"median": m, "worst": w, "rounds": per}
                L.append(f"{t:17} {label:22} {m:7.2f}x {w:7.2f}x {len(per):>3}/{paired:<3}  "
                         + " ".join(f"{p:.2f}" for p in per))
            else:
                res[label] = None
                L.append(f"{t:17} {label:22} {'-':>8} {'-':>8} {0:>3}/{paired:<3}  no round where both ran cleanly")
        results["ratios"][t] = res

    errs = {}
    for r in measured + [r for r in runs if r.get("phase") != "measure"]:
        for e in r.get("errors", []):
            errs.setdefault(r["target"], {})
            m = re.match(r"(\d+)x (.*)", e)
            n, text = (int(m.group(1)), m.group(2)) if m else (1, e)
            errs[r["target"]][text] = errs[r["target"]].get(text, 0) + n
    if errs:
        L.append("")
        L.append("pgbench's errors (all runs, warm-up included; client numbers stripped; SQLSTATEs in preflight.txt)")
        for t, es in errs.items():
            for text, n in sorted(es.items(), key=lambda x: -x[1])[:8]:
                L.append(f"  {t}: {n}x {text}")
    if os.path.exists(os.path.join(d, "preflight.txt")):
        L.append("")
        L.append("Preflight (psql, once per query, each answer compared with one-server's):")
        L.extend("  " + l.rstrip("\n") for l in open(os.path.join(d, "preflight.txt")))
    results["runs"] = measured
    json.dump(results, open(os.path.join(d, "results.json"), "w"), indent=1)
    text = "\n".join(L) + "\n"
    open(os.path.join(d, "summary.txt"), "w").write(text)
    sys.stdout.write(text)


def write_meta(args):
    out = args[args.index("--out") + 1]
    rest = [a for a in args if a not in ("--out", out)]
    meta = {}
    for pair in rest:
        k, _, v = pair.partition("=")
        if v[:1] in ("[", "{"):
            meta[k] = json.loads(v)
        else:
            meta.update(parse_meta([pair]))
    # Strings the report splits on commas stay strings.
    for k in ("scripts", "targets", "script_spec", "rows_per_shard"):
        if k in meta:
            meta[k] = str(meta[k])
    json.dump(meta, open(out, "w"), indent=1)


if __name__ == "__main__":
    cmd, rest = sys.argv[1], sys.argv[2:]
    if cmd == "record":
        record(rest)
    elif cmd == "report":
        report(rest[0])
    elif cmd == "meta":
        write_meta(rest)
    else:
        sys.exit(f"cross_shard.py: unknown command {cmd}")
