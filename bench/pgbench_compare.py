"""Breakwater against PgBouncer (and direct PostgreSQL where it makes sense), same machine, same run.

For each scenario and target: pgbench TPS, latency average and p99, failed transactions, and
the pooler's own CPU (user and kernel apart, from /proc) per 100,000 transactions, with its
peak RSS. Each run starts a fresh pooler; each scenario is repeated and the median reported.
Results go to bench/results/<date>.json and, unless --quick, BENCHMARKS.md.
"""

import argparse
import datetime
import glob
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile

from processes import PG_BIN, Pooler, Postgres, cpu_seconds, peak_rss_kib

HERE = os.path.dirname(os.path.abspath(__file__))

# name: (pgbench arguments, clients, whether direct PostgreSQL takes part)
SCENARIOS = {
    "select_simple": (["-S", "-M", "simple"], 50, True),
    "select_extended": (["-S", "-M", "extended"], 50, True),
    "tpcb": (["-M", "simple"], 50, True),
    "many_clients": (["-S", "-M", "simple"], 1000, False),
}
# Goals for the code (issue 6), reported as met or missed; never test assertions.
CPU_TARGET_SCENARIOS = ("select_simple", "select_extended", "tpcb")
USER_CPU_TARGET, TOTAL_CPU_TARGET = 0.5, 0.9


def parse_pgbench(output):
    def number(pattern):
        match = re.search(pattern, output)
        return float(match.group(1)) if match else None

    return {
        "tps": number(r"tps = ([0-9.]+)"),
        "transactions": number(r"actually processed: ([0-9]+)"),
        "failed": number(r"number of failed transactions: ([0-9]+)") or 0,
        "latency_avg_ms": number(r"latency average = ([0-9.]+) ms"),
    }


def p99_from_logs(prefix):
    """99th percentile latency (ms) from pgbench's sampled per-transaction logs."""
    latencies = []
    for path in glob.glob(prefix + "*"):
        with open(path) as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 3:
                    latencies.append(int(fields[2]) / 1000.0)
        os.remove(path)
    if not latencies:
        return None
    latencies.sort()
    return latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]


def run_pgbench(port, args, clients, seconds, workdir):
    prefix = os.path.join(workdir, "pgbench_log")
    cmd = [f"{PG_BIN}/pgbench", *args, "-c", str(clients), "-j", "2", "-T", str(seconds),
           "--log", "--sampling-rate=0.05", f"--log-prefix={prefix}",
           "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "postgres"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 300, cwd=workdir)
    result = parse_pgbench(out.stdout + out.stderr)
    result["p99_ms"] = p99_from_logs(prefix)
    if out.returncode != 0 or result["tps"] is None:
        result["error"] = (out.stdout + out.stderr)[-2000:]
    return result


def run_once(target, binaries, postgres, args, clients, seconds, workdir):
    if target == "direct":
        return run_pgbench(postgres.port, args, clients, seconds, workdir)
    pooler = Pooler(target, binaries[target], postgres, workdir).start()
    try:
        before = cpu_seconds(pooler.pid)
        result = run_pgbench(pooler.port, args, clients, seconds, workdir)
        after = cpu_seconds(pooler.pid)
        result["peak_rss_kib"] = peak_rss_kib(pooler.pid)
    finally:
        pooler.stop()
    tx = result.get("transactions") or 0
    result["cpu_user_s"], result["cpu_sys_s"] = after[0] - before[0], after[1] - before[1]
    if tx:
        result["cpu_user_s_per_100k"] = result["cpu_user_s"] * 100000 / tx
        result["cpu_sys_s_per_100k"] = result["cpu_sys_s"] * 100000 / tx
    return result


def median_of(runs):
    keys = {k for run in runs for k, v in run.items() if isinstance(v, (int, float))}
    return {k: statistics.median([run[k] for run in runs if run.get(k) is not None])
            for k in sorted(keys) if any(run.get(k) is not None for run in runs)}


def ratios(bw, pgb):
    def ratio(key):
        if bw.get(key) is None or not pgb.get(key):
            return None
        return bw[key] / pgb[key]

    total_bw = (bw.get("cpu_user_s_per_100k") or 0) + (bw.get("cpu_sys_s_per_100k") or 0)
    total_pgb = (pgb.get("cpu_user_s_per_100k") or 0) + (pgb.get("cpu_sys_s_per_100k") or 0)
    return {"tps": ratio("tps"), "latency_avg_ms": ratio("latency_avg_ms"), "p99_ms": ratio("p99_ms"),
            "cpu_user_per_tx": ratio("cpu_user_s_per_100k"),
            "cpu_total_per_tx": total_bw / total_pgb if total_pgb else None,
            "peak_rss": ratio("peak_rss_kib")}


def fmt(value, digits=2):
    return "-" if value is None else f"{value:.{digits}f}"


def markdown(results):
    lines = [f"Run {results['date']} on {results['machine']['cores']} cores, {results['machine']['kernel']}; "
             f"{results['pgbouncer_version']}; median of {results['repeat']} runs of {results['seconds']} s each.",
             ""]
    for name, scenario in results["scenarios"].items():
        lines += [f"### {name}", "", f"`pgbench {' '.join(scenario['pgbench_args'])} -c {scenario['clients']} -j 2`",
                  "",
                  "| target | TPS | latency avg ms | p99 ms | failed | user CPU s / 100k tx | kernel CPU s / 100k tx "
                  "| peak RSS MiB |",
                  "|---|---|---|---|---|---|---|---|"]
        for target, data in scenario["targets"].items():
            m = data["median"]
            rss = m.get("peak_rss_kib")
            lines.append(f"| {target} | {fmt(m.get('tps'), 0)} | {fmt(m.get('latency_avg_ms'), 3)} "
                         f"| {fmt(m.get('p99_ms'), 3)} | {fmt(m.get('failed'), 0)} "
                         f"| {fmt(m.get('cpu_user_s_per_100k'))} | {fmt(m.get('cpu_sys_s_per_100k'))} "
                         f"| {fmt(rss / 1024 if rss else None, 1)} |")
        r = scenario.get("ratios")
        if r:
            lines += ["", f"Breakwater / PgBouncer: TPS {fmt(r['tps'])}x, user CPU per transaction "
                          f"{fmt(r['cpu_user_per_tx'])}x, total CPU per transaction {fmt(r['cpu_total_per_tx'])}x, "
                          f"p99 latency {fmt(r['p99_ms'])}x, peak RSS {fmt(r['peak_rss'])}x."]
        lines.append("")
    lines += ["### Targets", "", "| scenario | target | measured | met |", "|---|---|---|---|"]
    for name in CPU_TARGET_SCENARIOS:
        r = results["scenarios"].get(name, {}).get("ratios")
        if not r:
            continue
        for label, key, goal in (("user CPU per tx", "cpu_user_per_tx", USER_CPU_TARGET),
                                 ("total CPU per tx", "cpu_total_per_tx", TOTAL_CPU_TARGET)):
            value = r.get(key)
            met = "yes" if value is not None and value <= goal else "no"
            lines.append(f"| {name} | {label} <= {goal}x PgBouncer | {fmt(value)}x | {met} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--breakwater", default="build/breakwater")
    parser.add_argument("--pgbouncer", default=shutil.which("pgbouncer") or "/usr/sbin/pgbouncer")
    parser.add_argument("--quick", action="store_true", help="smoke mode: short, small, one run (under 2 minutes)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    opts = parser.parse_args()
    if opts.quick:
        opts.repeat, opts.seconds, opts.scale = 1, 2, 1

    binaries = {"breakwater": os.path.abspath(opts.breakwater), "pgbouncer": opts.pgbouncer}
    version = subprocess.run([opts.pgbouncer, "-V"], capture_output=True, text=True).stdout.splitlines()
    results = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "quick": opts.quick,
               "repeat": opts.repeat, "seconds": opts.seconds, "scale": opts.scale,
               "machine": {"cores": os.cpu_count(), "kernel": platform.release()},
               "pgbouncer_version": version[0] if version else "pgbouncer", "scenarios": {}}
    workdir = tempfile.mkdtemp(prefix="bw-bench-")
    os.chmod(workdir, 0o777)
    postgres = Postgres().start()
    try:
        postgres.pgbench_init(opts.scale)
        for name in opts.scenarios.split(","):
            args, clients, with_direct = SCENARIOS[name]
            if opts.quick:
                clients = min(clients, 100)
            targets = ["breakwater", "pgbouncer"] + (["direct"] if with_direct else [])
            scenario = {"pgbench_args": args, "clients": clients, "targets": {}}
            runs = {t: [] for t in targets}
            for _ in range(opts.repeat):
                for target in targets:  # interleaved, so that drift hits every target alike
                    run = run_once(target, binaries, postgres, args, clients, opts.seconds, workdir)
                    if "error" in run:
                        raise SystemExit(f"{name} through {target} failed:\n{run['error']}")
                    runs[target].append(run)
            for target in targets:
                scenario["targets"][target] = {"runs": runs[target], "median": median_of(runs[target])}
            scenario["ratios"] = ratios(scenario["targets"]["breakwater"]["median"],
                                        scenario["targets"]["pgbouncer"]["median"])
            results["scenarios"][name] = scenario
            print(f"{name}: breakwater {fmt(scenario['targets']['breakwater']['median'].get('tps'), 0)} tps, "
                  f"pgbouncer {fmt(scenario['targets']['pgbouncer']['median'].get('tps'), 0)} tps", flush=True)
    finally:
        postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    report = markdown(results)
    print(report)
    if not opts.quick:
        os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
        stamp = results["date"].replace(":", "-")
        with open(os.path.join(HERE, "results", f"{stamp}.json"), "w") as f:
            json.dump(results, f, indent=1)
        with open(os.path.join(HERE, "..", "BENCHMARKS.md"), "w") as f:
            f.write("# Benchmarks\n\nGenerated by `bench/run`: Breakwater and PgBouncer in transaction mode, "
                    "`default_pool_size` 20, in front of the same PostgreSQL 15 on this machine, "
                    "one after the other.\n\n" + report)


if __name__ == "__main__":
    main()
