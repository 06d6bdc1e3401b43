#!/usr/bin/env python3
"""Results of bench/run: records one pgbench run, and writes the report of a whole run.

  results.py record --runs runs.jsonl --stdout out.txt --stderr err.txt --log-prefix DIR/tx \
                    --meta key=value ...           # appends one JSON line, deletes the tx logs
  results.py memory --out memory.jsonl key=value ...  # appends one memory measurement
  results.py report DIR                            # results.json, results.csv, summary.txt, tps.dat

Standard library only (no pip on these machines).

p50/p99 come from pgbench's per-transaction log (--log): every transaction's latency in
microseconds, sorted, nearest-rank percentile. For each (workload, target) the report shows the
median over the measured rounds of TPS, p50, p99 and CPU per transaction.
"""
import csv
import glob
import json
import os
import re
import statistics
import sys


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


def record(args):
    opts = {}
    rest = []
    i = 0
    while i < len(args):
        if args[i] in ("--runs", "--stdout", "--stderr", "--log-prefix"):
            opts[args[i]] = args[i + 1]
            i += 2
        else:
            rest.append(args[i])
            i += 1
    meta = parse_meta(rest)
    out = open(opts["--stdout"], errors="replace").read()
    err = open(opts["--stderr"], errors="replace").read() if os.path.exists(opts["--stderr"]) else ""

    def grab(pattern, cast=float):
        m = re.search(pattern, out, re.M)
        return cast(m.group(1)) if m else None

    tps = grab(r"^tps = ([\d.]+)")
    txns = grab(r"^number of transactions actually processed: (\d+)", int)
    failed = grab(r"^number of failed transactions: (\d+)", int) or 0
    lat_avg = grab(r"^latency average = ([\d.]+) ms")

    lat = []
    files = glob.glob(opts["--log-prefix"] + ".*")
    for f in files:
        with open(f) as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 3 and parts[2].isdigit():
                    lat.append(int(parts[2]))
        os.remove(f)
    lat.sort()
    p50 = percentile(lat, 50)
    p99 = percentile(lat, 99)

    cpu_ticks = meta.pop("cpu_ticks", -1)
    clk_tck = meta.pop("clk_tck", 100)
    cpu_us = None
    if isinstance(cpu_ticks, int) and cpu_ticks >= 0 and txns:
        cpu_us = cpu_ticks * 1e6 / clk_tck / txns

    # pgbench prints its errors on stderr: keep the distinct ones (client numbers stripped).
    errors = {}
    for line in (err + "\n" + out).splitlines():
        if re.search(r"error|abort|FATAL|failed|could not|timeout", line, re.I) and not line.startswith(
                ("number of failed", "maximum number of tries")):
            key = re.sub(r"client \d+", "client N", line.strip())[:300]
            errors[key] = errors.get(key, 0) + 1
    if not txns:
        errors["no transaction completed (pgbench exit " + str(meta.get("rc")) + ")"] = 1
    row = dict(meta)
    row.update({
        "tps": tps, "transactions": txns, "failed": failed, "latency_avg_ms": lat_avg,
        "p50_ms": p50 / 1000.0 if p50 is not None else None,
        "p99_ms": p99 / 1000.0 if p99 is not None else None,
        "logged_transactions": len(lat), "cpu_us_per_tx": cpu_us,
        "errors": [f"{n}x {e}" for e, n in sorted(errors.items(), key=lambda x: -x[1])[:10]],
    })
    with open(opts["--runs"], "a") as fh:
        fh.write(json.dumps(row) + "\n")
    flag = "" if row["rc"] == 0 and not errors else "  ERRORS: " + "; ".join(row["errors"][:3])
    cpu = f"{cpu_us:7.1f} us/tx" if cpu_us is not None else "      -     "
    print(f"    {meta.get('phase', ''):7} {meta.get('workload', ''):22} {meta.get('target', ''):16} "
          f"round {meta.get('round', '-')}: tps {tps or 0:10.1f}  p50 {row['p50_ms'] or 0:7.3f} ms  "
          f"p99 {row['p99_ms'] or 0:7.3f} ms  cpu {cpu}{flag}", flush=True)


def memory(args):
    out = args[args.index("--out") + 1]
    rest = [a for a in args if a not in ("--out", out)]
    with open(out, "a") as fh:
        fh.write(json.dumps(parse_meta(rest)) + "\n")


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec):
    if v is not None:
        return format(v, spec)
    width = re.match(r"\d*", spec).group(0)
    return "-".rjust(int(width)) if width else "-"


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


TARGET_ORDER = ["direct", "pgbouncer", "pgfleet", "pgfleet-cores", "direct-primary", "pgfleet-split-off", "pgfleet-split-on"]


def report(d):
    meta = json.load(open(os.path.join(d, "meta.json")))
    rows = [json.loads(l) for l in open(os.path.join(d, "runs.jsonl"))] if os.path.exists(
        os.path.join(d, "runs.jsonl")) else []
    mem = [json.loads(l) for l in open(os.path.join(d, "memory.jsonl"))] if os.path.exists(
        os.path.join(d, "memory.jsonl")) else []
    measured = [r for r in rows if r.get("phase") == "measure"]

    # Aggregate: median over rounds per (workload, target).
    keys = []
    for r in measured:
        k = (r["workload"], r["target"])
        if k not in keys:
            keys.append(k)
    agg = {}
    for k in keys:
        rs = [r for r in measured if (r["workload"], r["target"]) == k]
        first = rs[0]
        agg[k] = {
            "workload": k[0], "target": k[1], "group": first.get("group"), "protocol": first.get("protocol"),
            "clients": first.get("clients"), "mode": first.get("mode"), "rounds": len(rs),
            "tps": med([r["tps"] for r in rs]), "p50_ms": med([r["p50_ms"] for r in rs]),
            "p99_ms": med([r["p99_ms"] for r in rs]), "cpu_us_per_tx": med([r["cpu_us_per_tx"] for r in rs]),
            "tps_rounds": [r["tps"] for r in rs], "failed": sum(r.get("failed") or 0 for r in rs),
            "nonzero_exit": sum(1 for r in rs if r.get("rc") != 0),
            "errors": sorted({e for r in rs for e in r.get("errors", [])}),
        }
    workloads = []
    for k in keys:
        if k[0] not in workloads:
            workloads.append(k[0])

    lines = []
    title = (f"PgFleet benchmark  {meta.get('started')}  rounds={meta.get('rounds')} duration={meta.get('duration')}s "
             f"warmup={meta.get('warmup')}s  pgfleet pool_mode={meta.get('pgfleet_mode')}"
             + ("  (SMOKE RUN: --quick, not a result)" if meta.get("quick") else ""))
    lines.append(title)
    lines.append(f"host: {meta.get('host')}")
    if meta.get("pgfleet_mode") == "session":
        lines.append("NOTE: PgFleet ran in SESSION mode, "
                     f"pool_size={meta.get('pgfleet_pool_size')}: PgFleet rows are marked 'session'.")
    for n in meta.get("notes") or []:
        lines.append(f"NOTE: {n}")
    hdr = (f"{'workload':22} {'target':17} {'mode':11} {'cli':>4} {'TPS(med)':>10} {'p50 ms':>8} {'p99 ms':>8} "
           f"{'CPU us/tx':>9} {'TPS/PgB':>7} {'TPS/dir':>7} {'p50/PgB':>7} {'CPU/PgB':>7}  notes")
    lines.append(hdr)
    lines.append("-" * len(hdr))
    for w in workloads:
        targets = sorted([k[1] for k in keys if k[0] == w], key=lambda t: TARGET_ORDER.index(t)
                         if t in TARGET_ORDER else 99)
        base_b = agg.get((w, "pgbouncer"))
        base_d = agg.get((w, "direct")) or agg.get((w, "direct-primary"))
        for t in targets:
            a = agg[(w, t)]
            if t.startswith("pgfleet"):
                a["tps_vs_pgbouncer"] = ratio(a["tps"], base_b and base_b["tps"])
                a["tps_vs_direct"] = ratio(a["tps"], base_d and base_d["tps"])
                a["p50_vs_pgbouncer"] = ratio(a["p50_ms"], base_b and base_b["p50_ms"])
                a["cpu_vs_pgbouncer"] = ratio(a["cpu_us_per_tx"], base_b and base_b["cpu_us_per_tx"])
            notes = []
            if a["failed"]:
                notes.append(f"{a['failed']} failed tx")
            if a["nonzero_exit"]:
                notes.append(f"pgbench exit!=0 in {a['nonzero_exit']} round(s)")
            if a["errors"]:
                notes.append("errors: " + " | ".join(a["errors"][:2]))
            lines.append(
                f"{w:22} {t:17} {a['mode']:11} {a['clients']:>4} {fmt(a['tps'], '10.1f')} {fmt(a['p50_ms'], '8.3f')} "
                f"{fmt(a['p99_ms'], '8.3f')} {fmt(a['cpu_us_per_tx'], '9.1f')} "
                f"{fmt(a.get('tps_vs_pgbouncer'), '7.2f')} {fmt(a.get('tps_vs_direct'), '7.2f')} "
                f"{fmt(a.get('p50_vs_pgbouncer'), '7.2f')} {fmt(a.get('cpu_vs_pgbouncer'), '7.2f')}  "
                + "; ".join(notes))
    skipped = meta.get("skipped") or []
    for s in skipped:
        lines.append(f"(skipped: {s})")

    if mem:
        lines.append("")
        lines.append("Idle clients (memory): resident set size and, for PgFleet, used Java heap after a full GC")
        mh = (f"{'target':10} {'mode':11} {'clients':>7} {'logged in':>9} {'RSS before':>11} {'RSS after':>10} "
              f"{'RSS/client':>10} {'heap before':>11} {'heap after':>10} {'heap/client':>11}")
        lines.append(mh)
        lines.append("-" * len(mh))
        for m in mem:
            n = m.get("ready") or 0
            rss_pc = (m["rss_after_kib"] - m["rss_before_kib"]) / n if n else None
            heap_pc = ((m["heap_after_kib"] - m["heap_before_kib"]) / n
                       if n and m.get("heap_after_kib", -1) >= 0 else None)
            m["rss_per_client_kib"] = rss_pc
            m["heap_per_client_kib"] = heap_pc
            lines.append(
                f"{m['target']:10} {m.get('mode', ''):11} {m['clients']:>7} {n:>9} {m['rss_before_kib']:>8} KiB "
                f"{m['rss_after_kib']:>7} KiB {fmt(rss_pc, '6.2f'):>6} KiB "
                f"{(str(m['heap_before_kib']) + ' KiB') if m.get('heap_before_kib', -1) >= 0 else '-':>11} "
                f"{(str(m['heap_after_kib']) + ' KiB') if m.get('heap_after_kib', -1) >= 0 else '-':>10} "
                f"{fmt(heap_pc, '7.2f'):>7} KiB"
                + (f"   {m.get('note')}" if m.get("note") else ""))

    # Targets of the benchmarks issue, judged on this run's numbers.
    def g(w, t, f):
        a = agg.get((w, t))
        return a.get(f) if a else None

    checks = []

    def check(name, value, ok, shown):
        checks.append({"target": name, "value": value, "pass": ok if value is not None else None, "shown": shown})

    loops = {"pgfleet": meta.get("worker_threads"), "pgfleet-cores": meta.get("second_loops")}
    for t in ("pgfleet", "pgfleet-cores"):
        if t == "pgfleet-cores" and not any(k[1] == t for k in keys):
            continue
        n = loops.get(t)
        who = f"PgFleet ({n} loop{'s' if n != 1 else ''})" if n else "PgFleet"
        for proto in ("simple", "extended"):
            w = f"select-{proto}-50"
            r = ratio(g(w, t, "tps"), g(w, "pgbouncer", "tps"))
            check(f"{w}: {who} TPS >= 1.1x PgBouncer", r, r is not None and r >= 1.1, fmt(r, ".2f") + "x")
            c = ratio(g(w, t, "cpu_us_per_tx"), g(w, "pgbouncer", "cpu_us_per_tx"))
            check(f"{w}: {who} CPU/tx <= PgBouncer's", c, c is not None and c <= 1.0, fmt(c, ".2f") + "x")
    r = ratio(g("select-prepared-50", "pgfleet", "tps"), g("select-extended-50", "pgfleet", "tps"))
    check("select-prepared-50: PgFleet TPS >= 1.1x PgFleet extended", r, r is not None and r >= 1.1,
          fmt(r, ".2f") + "x")
    for proto in ("simple", "extended"):
        w = f"select-{proto}-1"
        r = ratio(g(w, "pgfleet", "p50_ms"), g(w, "pgbouncer", "p50_ms"))
        check(f"{w}: PgFleet p50 <= 1.1x PgBouncer", r, r is not None and r <= 1.1, fmt(r, ".2f") + "x")
    r = ratio(g("storm-20", "pgfleet", "tps"), g("storm-20", "pgbouncer", "tps"))
    check("storm-20: PgFleet TPS >= 1.0x PgBouncer", r, r is not None and r >= 1.0, fmt(r, ".2f") + "x")
    r = ratio(g("rwsplit-50", "pgfleet-split-on", "tps"), g("rwsplit-50", "pgfleet-split-off", "tps"))
    check("rwsplit-50: splitting on >= 0.9x splitting off", r, r is not None and r >= 0.9, fmt(r, ".2f") + "x")
    for m in mem:
        if m["target"] == "pgfleet":
            h = m.get("heap_per_client_kib")
            check(f"{m['clients']} idle clients: PgFleet heap < 10 KiB per client", h, h is not None and h < 10,
                  fmt(h, ".2f") + " KiB")
    lines.append("")
    lines.append("Targets (this run; JMH targets: bench/jmh/run)")
    for c in checks:
        state = {True: "PASS", False: "FAIL", None: "n/a "}[c["pass"]]
        lines.append(f"  [{state}] {c['target']:58} {c['shown']}")
    if meta.get("pgfleet_mode") == "session":
        lines.append("  (PgFleet in session mode: the targets are for transaction mode)")

    summary = "\n".join(lines) + "\n"
    open(os.path.join(d, "summary.txt"), "w").write(summary)
    sys.stdout.write(summary)

    json.dump({"meta": meta, "results": list(agg.values()), "memory": mem, "targets": checks, "runs": rows},
              open(os.path.join(d, "results.json"), "w"), indent=1)
    with open(os.path.join(d, "results.csv"), "w", newline="") as fh:
        cols = ["workload", "group", "protocol", "clients", "target", "mode", "rounds", "tps", "p50_ms", "p99_ms",
                "cpu_us_per_tx", "tps_vs_pgbouncer", "tps_vs_direct", "p50_vs_pgbouncer", "cpu_vs_pgbouncer",
                "failed", "nonzero_exit"]
        wr = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        wr.writeheader()
        for a in agg.values():
            wr.writerow(a)

    write_plot(d, meta, agg)


def write_plot(d, meta, agg):
    """tps.dat (select-only TPS by client count) and tps.gp, a gnuplot script for tps.png with one
    panel per protocol and a line per target that has data."""
    def loops(n):
        return f"PgFleet, {n} event loop{'s' if n != 1 else ''}" if n else "PgFleet"

    targets = [("direct", "direct PostgreSQL", 7, "#7b3294"), ("pgbouncer", "PgBouncer", 5, "#008837"),
               ("pgfleet", loops(meta.get("worker_threads")), 9, "#e66101"),
               ("pgfleet-cores", loops(meta.get("second_loops")), 11, "#b35806")]
    panels = []
    with open(os.path.join(d, "tps.dat"), "w") as fh:
        block = 0
        for proto in ("simple", "extended", "prepared"):
            pts = sorted((a["clients"], a["target"], a["tps"]) for a in agg.values()
                         if a["group"] == "select" and a["protocol"] == proto and a["tps"] is not None)
            if not pts:
                continue
            series = []
            for col, (t, label, pt, color) in enumerate(targets, start=2):
                if any(p[1] == t for p in pts):
                    series.append((col, label, pt, color))
            fh.write(f"# select-only -M {proto}: clients " + " ".join(t for t, _, _, _ in targets)
                     + " (TPS, median of rounds)\n")
            for c in sorted({p[0] for p in pts}):
                vals = {p[1]: p[2] for p in pts if p[0] == c}
                fh.write(f"{c} " + " ".join(f"{vals[t]:.1f}" if t in vals else "NaN" for t, _, _, _ in targets) + "\n")
            fh.write("\n\n")
            panels.append((block, proto, series))
            block += 1
    if not panels:
        return
    sub = meta.get("started", "")
    if meta.get("quick"):
        sub += " - SMOKE RUN (--quick)"
    if meta.get("pgfleet_mode") == "session":
        sub += " - PgFleet in session mode"
    gp = [
        f'set terminal pngcairo size {500 * len(panels)},520 font "sans,10"',
        'set output "tps.png"',
        'set datafile missing "NaN"',
        "set logscale x 2", "set xrange [0.8:260]", "set xtics (1, 10, 50, 200)", "set yrange [0:*]",
        "set grid", "set key top right", 'set xlabel "clients (pgbench -S, -j 2)"',
        'set ylabel "TPS (median of rounds)"',
        f'set multiplot layout 1,{len(panels)} title "Select-only TPS by client count: direct PostgreSQL, '
        f'PgBouncer (transaction), PgFleet ({meta.get("pgfleet_mode")})\\n{sub}"',
    ]
    for block, proto, series in panels:
        gp.append(f'set title "-M {proto}"')
        gp.append("plot " + ", ".join(
            f'"tps.dat" index {block} using 1:{col} with linespoints lw 2 pt {pt} lc rgb "{color}" title "{label}"'
            for col, label, pt, color in series))
    gp.append("unset multiplot")
    open(os.path.join(d, "tps.gp"), "w").write("\n".join(gp) + "\n")


def main():
    cmd = sys.argv[1]
    if cmd == "record":
        record(sys.argv[2:])
    elif cmd == "memory":
        memory(sys.argv[2:])
    elif cmd == "report":
        report(sys.argv[2])
    else:
        sys.exit("usage: results.py record|memory|report ...")


if __name__ == "__main__":
    main()
