#!/usr/bin/env python3
"""Results of bench/run: records one pgbench run, and writes the report of a whole run.

  results.py record --runs runs.jsonl --stdout out.txt --stderr err.txt --log-prefix DIR/tx \
                    --meta key=value ...           # appends one JSON line, deletes the tx logs
  results.py memory --out memory.jsonl key=value ...  # appends one memory measurement
  results.py meta --out meta.json key=value ...    # the run's meta data
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
    # CPU the poolers not under test spent during the run (0 when bench/run paused them).
    other_ticks = meta.pop("other_poolers_cpu_ticks", None)
    if isinstance(other_ticks, int) and meta.get("duration"):
        meta["other_poolers_cpu_ms_per_s"] = other_ticks * 1000.0 / clk_tck / meta["duration"]
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


def write_meta(args):
    """meta --out FILE key=value ...: the run's meta.json; a value that starts with [ or { is JSON."""
    out = args[args.index("--out") + 1]
    rest = [a for a in args if a not in ("--out", out)]
    meta = {}
    for pair in rest:
        k, _, v = pair.partition("=")
        if v[:1] in ("[", "{"):
            meta[k] = json.loads(v)
        else:
            meta.update(parse_meta([pair]))
    json.dump(meta, open(out, "w"), indent=1)


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


ANCHOR = "pgbouncer"   # PgBouncer 1.24 (max_prepared_statements = 200): the anchor of every ratio
JUDGED = "pgfleet"     # PgFleet with its shipped defaults: the issue's targets are judged on it
MIN_ROUNDS = 5         # the targets are medians of at least this many rounds


def target_rank(t):
    """Row order: direct, the PgBouncers, the judged PgFleet, the --also-loops PgFleets by loops, rwsplit."""
    fixed = {"direct": (0, 0), "pgbouncer": (1, 0), "pgbouncer-1.18": (1, 1), "pgfleet": (2, 0),
             "pgfleet-monitored": (2, 1),
             "pgfleet-before": (2, 2),
             "direct-primary": (4, 0), "pgfleet-split-off": (4, 1), "pgfleet-split-on": (4, 2)}
    if t in fixed:
        return fixed[t]
    m = re.match(r"pgfleet-(\d+)loops?$", t)
    return (3, int(m.group(1))) if m else (5, 0)


def is_variant(t):
    return re.match(r"pgfleet-\d+loops?$", t) is not None


def loops_label(meta, t):
    """How many event loops a PgFleet target ran, as the report names it."""
    if t == JUDGED:
        n = meta.get("pgfleet_event_loops")
        wt = meta.get("worker_threads")
        how = "shipped defaults" if wt in (None, "default") else f"worker_threads = {wt}, NOT the defaults"
        return f"PgFleet ({how}{f', {n} event loops' if isinstance(n, int) and n > 0 else ''})"
    n = (meta.get("variant_event_loops") or {}).get(t)
    return f"{t} ({n} event loop{'s' if n != 1 else ''}, beside)" if n else t


def report(d):
    meta = json.load(open(os.path.join(d, "meta.json")))
    rows = [json.loads(l) for l in open(os.path.join(d, "runs.jsonl"))] if os.path.exists(
        os.path.join(d, "runs.jsonl")) else []
    mem = [json.loads(l) for l in open(os.path.join(d, "memory.jsonl"))] if os.path.exists(
        os.path.join(d, "memory.jsonl")) else []
    measured = [r for r in rows if r.get("phase") == "measure"]

    # Aggregate: median over rounds per (workload, target); each round kept, by round number, so a
    # ratio can be taken round by round (the targets of one round ran minutes apart, interleaved).
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
            "by_round": {r["round"]: r for r in rs},
            "nonzero_exit": sum(1 for r in rs if r.get("rc") != 0),
            "errors": sorted({e for r in rs for e in r.get("errors", [])}),
        }
    workloads = []
    for k in keys:
        if k[0] not in workloads:
            workloads.append(k[0])

    def worst(w, t, field, base_t, higher_is_better):
        """The worst round's ratio of target t to base_t (same round number), and the rounds paired."""
        a, b = agg.get((w, t)), agg.get((w, base_t))
        if not a or not b:
            return None, 0
        rs = [ratio(a["by_round"][n].get(field), b["by_round"][n].get(field))
              for n in a["by_round"] if n in b["by_round"]]
        rs = [r for r in rs if r is not None]
        if not rs:
            return None, 0
        return (min(rs) if higher_is_better else max(rs)), len(rs)

    lines = []
    rounds_desc = (f"rounds={meta.get('judged_rounds')} (judged points), {meta.get('other_rounds')} (others)"
                   if meta.get("judged_rounds") != meta.get("other_rounds") else f"rounds={meta.get('judged_rounds')}")
    title = (f"PgFleet benchmark  {meta.get('started')}  {rounds_desc} duration={meta.get('duration')}s "
             f"warmup={meta.get('warmup')}s  pgfleet pool_mode={meta.get('pgfleet_mode')}"
             + ("  (SMOKE RUN: --quick, not a result)" if meta.get("quick") else ""))
    lines.append(title)
    lines.append(f"host: {meta.get('host')}; {meta.get('postgres')}; anchor: PgBouncer {meta.get('pgbouncer')}"
                 + (f" (second line: PgBouncer {meta.get('pgbouncer_118')})" if meta.get("pgbouncer_118") else ""))
    lines.append(f"judged: {loops_label(meta, JUDGED)}; ratios are to PgBouncer {meta.get('pgbouncer')}; "
                 f"'worst' is the worst round's ratio (same round, interleaved)")
    if meta.get("pgfleet_mode") == "session":
        lines.append("NOTE: PgFleet ran in SESSION mode, "
                     f"pool_size={meta.get('pgfleet_pool_size')}: PgFleet rows are marked 'session'.")
    for n in meta.get("notes") or []:
        lines.append(f"NOTE: {n}")
    hdr = (f"{'workload':22} {'target':17} {'mode':11} {'cli':>4} {'rnd':>3} {'TPS(med)':>10} {'p50 ms':>8} "
           f"{'p99 ms':>8} {'CPU us/tx':>9} {'TPS/PgB':>7} {'worst':>6} {'TPS/dir':>7} {'p50/PgB':>7} "
           f"{'CPU/PgB':>7} {'worst':>6}  notes")
    lines.append(hdr)
    lines.append("-" * len(hdr))
    for w in workloads:
        targets = sorted([k[1] for k in keys if k[0] == w], key=target_rank)
        base_b = agg.get((w, ANCHOR))
        base_d = agg.get((w, "direct")) or agg.get((w, "direct-primary"))
        for t in targets:
            a = agg[(w, t)]
            if not t.startswith("direct") and t != ANCHOR:
                a["tps_vs_pgbouncer"] = ratio(a["tps"], base_b and base_b["tps"])
                a["tps_vs_direct"] = ratio(a["tps"], base_d and base_d["tps"])
                a["p50_vs_pgbouncer"] = ratio(a["p50_ms"], base_b and base_b["p50_ms"])
                a["cpu_vs_pgbouncer"] = ratio(a["cpu_us_per_tx"], base_b and base_b["cpu_us_per_tx"])
                a["tps_vs_pgbouncer_worst"] = worst(w, t, "tps", ANCHOR, True)[0]
                a["cpu_vs_pgbouncer_worst"] = worst(w, t, "cpu_us_per_tx", ANCHOR, False)[0]
            notes = []
            if a["failed"]:
                notes.append(f"{a['failed']} failed tx")
            if a["nonzero_exit"]:
                notes.append(f"pgbench exit!=0 in {a['nonzero_exit']} round(s)")
            if a["errors"]:
                notes.append("errors: " + " | ".join(a["errors"][:2]))
            lines.append(
                f"{w:22} {t:17} {a['mode']:11} {a['clients']:>4} {a['rounds']:>3} {fmt(a['tps'], '10.1f')} "
                f"{fmt(a['p50_ms'], '8.3f')} {fmt(a['p99_ms'], '8.3f')} {fmt(a['cpu_us_per_tx'], '9.1f')} "
                f"{fmt(a.get('tps_vs_pgbouncer'), '7.2f')} {fmt(a.get('tps_vs_pgbouncer_worst'), '6.2f')} "
                f"{fmt(a.get('tps_vs_direct'), '7.2f')} {fmt(a.get('p50_vs_pgbouncer'), '7.2f')} "
                f"{fmt(a.get('cpu_vs_pgbouncer'), '7.2f')} {fmt(a.get('cpu_vs_pgbouncer_worst'), '6.2f')}  "
                + "; ".join(notes))
    idle = [r["other_poolers_cpu_ms_per_s"] for r in measured if r.get("other_poolers_cpu_ms_per_s") is not None]
    if idle:
        lines.append(f"CPU of the poolers not under test, during a measured run: median {med(idle):.1f} ms/s, "
                     f"max {max(idle):.1f} ms/s" + (" (paused with SIGSTOP)" if meta.get("pause") else
                                                      " (--no-pause: they ran)"))
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

    # --baseline-*: one line per point, pgfleet against pgfleet-before (median and worst round ratio).
    before_points = [w for w in workloads if (w, "pgfleet-before") in agg and (w, JUDGED) in agg]
    if before_points:
        lines.append("")
        lines.append(f"PgFleet against pgfleet-before ({meta.get('baseline') or 'baseline jar'}), same settings, "
                     "same run; ratio = pgfleet / pgfleet-before, worst = the worst round's ratio")
        bh = (f"{'workload':22} {'rnd':>3} {'TPS':>10} {'TPS before':>10} {'ratio':>6} {'worst':>6} "
              f"{'CPU us/tx':>9} {'before':>9} {'ratio':>6} {'worst':>6}")
        lines.append(bh)
        lines.append("-" * len(bh))
        for w in before_points:
            a, b = agg[(w, JUDGED)], agg[(w, "pgfleet-before")]
            lines.append(
                f"{w:22} {min(a['rounds'], b['rounds']):>3} {fmt(a['tps'], '10.1f')} {fmt(b['tps'], '10.1f')} "
                f"{fmt(ratio(a['tps'], b['tps']), '6.3f')} {fmt(worst(w, JUDGED, 'tps', 'pgfleet-before', True)[0], '6.3f')} "
                f"{fmt(a['cpu_us_per_tx'], '9.1f')} {fmt(b['cpu_us_per_tx'], '9.1f')} "
                f"{fmt(ratio(a['cpu_us_per_tx'], b['cpu_us_per_tx']), '6.3f')} "
                f"{fmt(worst(w, JUDGED, 'cpu_us_per_tx', 'pgfleet-before', False)[0], '6.3f')}")

    # Targets of issue 11 ("Speed with the shipped defaults"), judged on this run's numbers: the
    # median of the rounds, the worst round beside it, and whether there were enough rounds.
    def g(w, t, f):
        a = agg.get((w, t))
        return a.get(f) if a else None

    checks = []
    not_measured = []

    def check(name, w, t, field, base_t, limit, higher_is_better, unit="x"):
        if (w, t) not in agg or (w, base_t) not in agg:
            not_measured.append(name)
            return
        value = ratio(g(w, t, field), g(w, base_t, field))
        bad, n = worst(w, t, field, base_t, higher_is_better)
        ok = None if value is None else (value >= limit if higher_is_better else value <= limit)
        rounds = min(agg[(w, t)]["rounds"], agg[(w, base_t)]["rounds"])
        shown = fmt(value, ".2f") + unit + f" (worst round {fmt(bad, '.2f')}{unit}, {rounds} round{'s' if rounds != 1 else ''})"
        if rounds < MIN_ROUNDS:
            shown += f"  [fewer than {MIN_ROUNDS} rounds: not a judgement]"
        checks.append({"target": name, "value": value, "worst_round": bad, "rounds": rounds,
                       "judged": rounds >= MIN_ROUNDS and t == JUDGED, "pass": ok, "shown": shown})

    fleet_targets = [JUDGED] + sorted({k[1] for k in keys if is_variant(k[1])}, key=target_rank)
    for t in fleet_targets:
        who = "PgFleet" if t == JUDGED else t
        for proto in ("simple", "extended", "prepared"):
            w = f"select-{proto}-50"
            check(f"{w}: {who} TPS >= 1.1x PgBouncer", w, t, "tps", ANCHOR, 1.1, True)
            check(f"{w}: {who} CPU/tx <= 1.0x PgBouncer's", w, t, "cpu_us_per_tx", ANCHOR, 1.0, False)
        for proto in ("simple", "extended", "prepared"):
            w = f"select-{proto}-200"
            check(f"{w}: {who} TPS >= 1.2x PgBouncer", w, t, "tps", ANCHOR, 1.2, True)
        for proto in ("simple", "extended", "prepared"):
            w = f"select-{proto}-1"
            check(f"{w}: {who} p50 <= 1.05x PgBouncer", w, t, "p50_ms", ANCHOR, 1.05, False)
    # --monitor: /metrics scraped and the console polled every second cost at most 3% (issue 12).
    if any(k[1] == "pgfleet-monitored" for k in keys):
        for proto in ("simple", "extended", "prepared"):
            w = f"select-{proto}-50"
            check(f"{w}: monitored PgFleet TPS >= 0.97x unmonitored", w, "pgfleet-monitored", "tps", JUDGED, 0.97,
                  True)
    # --baseline-jar/--baseline-ref: the judged pgfleet against pgfleet-before, the same settings from
    # another jar, interleaved in the same run (issue 13: the session refactor within 3% of before).
    if any(k[1] == "pgfleet-before" for k in keys):
        for proto in ("simple", "extended", "prepared"):
            w = f"select-{proto}-50"
            check(f"{w}: PgFleet TPS >= 0.97x pgfleet-before", w, JUDGED, "tps", "pgfleet-before", 0.97, True)
            check(f"{w}: PgFleet CPU/tx <= 1.03x pgfleet-before's", w, JUDGED, "cpu_us_per_tx", "pgfleet-before",
                  1.03, False)
    # The other targets of bench/run (benchmarks issue), on the judged instance.
    if ("select-prepared-50", JUDGED) in agg and ("select-extended-50", JUDGED) in agg:
        r = ratio(g("select-prepared-50", JUDGED, "tps"), g("select-extended-50", JUDGED, "tps"))
        checks.append({"target": "select-prepared-50: PgFleet TPS >= 1.1x PgFleet extended", "value": r,
                       "pass": None if r is None else r >= 1.1, "shown": fmt(r, ".2f") + "x"})
    check("storm-20: PgFleet TPS >= 1.0x PgBouncer", "storm-20", JUDGED, "tps", ANCHOR, 1.0, True)
    check("rwsplit-50: splitting on >= 0.9x splitting off", "rwsplit-50", "pgfleet-split-on", "tps",
          "pgfleet-split-off", 0.9, True)
    for m in mem:
        if m["target"] == "pgfleet":
            h = m.get("heap_per_client_kib")
            checks.append({"target": f"{m['clients']} idle clients: PgFleet heap < 10 KiB per client", "value": h,
                           "pass": None if h is None else h < 10, "shown": fmt(h, ".2f") + " KiB"})
    lines.append("")
    lines.append(f"Targets (this run, against PgBouncer {meta.get('pgbouncer')}; medians of the rounds, "
                 f"judged on >= {MIN_ROUNDS}; JMH targets: bench/jmh/run)")
    for c in checks:
        state = {True: "PASS", False: "FAIL", None: "n/a "}[c["pass"]]
        lines.append(f"  [{state}] {c['target']:62} {c['shown']}")
    if not_measured:
        lines.append(f"  (not measured in this run: {len(not_measured)} targets, e.g. {not_measured[0]})")
    if meta.get("pgfleet_mode") == "session":
        lines.append("  (PgFleet in session mode: the targets are for transaction mode)")
    if meta.get("worker_threads") not in (None, "default"):
        lines.append(f"  (the judged target ran worker_threads = {meta.get('worker_threads')}, not the shipped "
                     "defaults: these are not the issue's judgement)")

    summary = "\n".join(lines) + "\n"
    open(os.path.join(d, "summary.txt"), "w").write(summary)
    sys.stdout.write(summary)

    for a in agg.values():
        del a["by_round"]   # every run is in "runs"
    json.dump({"meta": meta, "results": list(agg.values()), "memory": mem, "targets": checks, "runs": rows},
              open(os.path.join(d, "results.json"), "w"), indent=1)
    with open(os.path.join(d, "results.csv"), "w", newline="") as fh:
        cols = ["workload", "group", "protocol", "clients", "target", "mode", "rounds", "tps", "p50_ms", "p99_ms",
                "cpu_us_per_tx", "tps_vs_pgbouncer", "tps_vs_direct", "p50_vs_pgbouncer", "cpu_vs_pgbouncer",
                "tps_vs_pgbouncer_worst", "cpu_vs_pgbouncer_worst", "failed", "nonzero_exit"]
        wr = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        wr.writeheader()
        for a in agg.values():
            wr.writerow(a)

    write_plot(d, meta, agg)


def write_plot(d, meta, agg):
    """tps.dat (select-only TPS by client count) and tps.gp, a gnuplot script for tps.png with one
    panel per protocol and a line per target that has data."""
    pgb = f"PgBouncer {meta.get('pgbouncer') or ''}".strip()
    targets = [("direct", "direct PostgreSQL", 7, "#7b3294"), ("pgbouncer", pgb, 5, "#008837"),
               ("pgbouncer-1.18", f"PgBouncer {meta.get('pgbouncer_118') or '1.18'}", 4, "#a6dba0"),
               ("pgfleet", loops_label(meta, "pgfleet"), 9, "#e66101")]
    colors = ["#b35806", "#fdb863", "#5e3c99", "#2166ac"]
    variants = sorted({a["target"] for a in agg.values() if is_variant(a["target"])}, key=target_rank)
    for i, t in enumerate(variants):
        targets.append((t, loops_label(meta, t), 11 + i, colors[i % len(colors)]))
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
    elif cmd == "meta":
        write_meta(sys.argv[2:])
    elif cmd == "report":
        report(sys.argv[2])
    else:
        sys.exit("usage: results.py record|memory|meta|report ...")


if __name__ == "__main__":
    main()
