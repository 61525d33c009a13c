"""Breakwater against PgBouncer (and direct PostgreSQL where it makes sense), same machine, same run.

Scenarios (see scenarios.py): select_simple, select_extended, tpcb, connect_storm,
many_clients, latency, pooler_bound and paced_tail (both poolers at one rate) through pgbench; idle_memory and burst with
thousands of raw protocol clients (swarm.py held idle; burst_client.cpp all at once). For each: TPS, latency average and
p99, failures, the pooler's own CPU (user and kernel apart, from /proc) per 100,000
transactions or clients, system calls per transaction (perf, where available) and
RSS. Every scenario runs `--repeat` times, targets interleaved so that drift hits
them alike; the median is reported, and each Breakwater figure as a ratio to
PgBouncer's. Results go to bench/results/<date>.json and, unless --quick,
BENCHMARKS.md with a PNG chart of the ratios.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import tempfile
from types import SimpleNamespace

import report
import syscalls
from processes import Postgres
from scenarios import QUICK_CLIENTS, SCENARIOS, pace_for, run_scenario_once, targets_of

HERE = os.path.dirname(os.path.abspath(__file__))


def run_scenario(name, opts, ctx):
    spec = SCENARIOS[name]
    clients = QUICK_CLIENTS.get(name, spec["clients"]) if opts.quick else spec["clients"]
    targets = targets_of(spec)
    runs = {t: [] for t in targets}
    rate = pace_for(spec, clients, max(1, opts.seconds // 3), ctx) if spec.get("pace") else None
    for _ in range(opts.repeat):
        for target in targets:
            run = run_scenario_once(name, target, clients, opts.seconds, ctx, rate)
            if "error" in run:
                raise SystemExit(f"{name} through {target} failed:\n{run['error']}")
            runs[target].append(run)
    scenario = {"name": name, "clients": clients, **({"rate": rate} if rate else {}),
                "targets": {t: {"runs": runs[t], "median": report.median_of(runs[t])} for t in targets}}
    finish_scenario(name, scenario)
    return scenario


def finish_scenario(name, scenario):
    """Figures derived from the medians: added latency (one client only, where it
    means something), ratios to PgBouncer."""
    if name == "latency":
        report.add_added_latency(scenario["targets"])
    scenario["ratios"] = report.ratios(scenario["targets"])


def summary_line(name, scenario):
    parts = []
    for target, data in scenario["targets"].items():
        m = data["median"]
        if "tps" in m:
            parts.append(f"{target} {m['tps']:.0f} tps")
        elif "rss_per_client_kib" in m:
            parts.append(f"{target} {m['rss_per_client_kib']:.2f} KiB/client")
        elif "seconds_to_last" in m:
            parts.append(f"{target} {m['served']:.0f} served in {m['seconds_to_last']:.2f} s")
    return f"{name}: " + ", ".join(parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--breakwater", default="build/breakwater")
    parser.add_argument("--pgbouncer", default=shutil.which("pgbouncer") or "/usr/sbin/pgbouncer")
    parser.add_argument("--burst-client", default="build/burst_client", help="the burst scenario's client (CMake builds it)")
    parser.add_argument("--quick", action="store_true", help="smoke mode: short, small, one run (under 2 minutes)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--no-syscalls", action="store_true", help="do not count system calls with perf")
    parser.add_argument("--report", metavar="JSON", help="only write BENCHMARKS.md and the chart from saved results")
    opts = parser.parse_args()
    if opts.report:
        with open(opts.report) as f:
            results = json.load(f)
        for name, scenario in results["scenarios"].items():
            for data in scenario["targets"].values():
                data["median"].pop("added_latency_us", None)
            finish_scenario(name, scenario)
        with open(opts.report, "w") as f:
            json.dump(results, f, indent=1)
        write_report(results)
        return
    if opts.quick:
        opts.repeat, opts.seconds, opts.scale = 1, 2, 1
    names = opts.scenarios.split(",")
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")

    version = subprocess.run([opts.pgbouncer, "-V"], capture_output=True, text=True).stdout.splitlines()
    results = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "quick": opts.quick,
               "repeat": opts.repeat, "seconds": opts.seconds, "scale": opts.scale,
               "machine": {"cores": os.cpu_count(), "kernel": platform.release()},
               "pgbouncer_version": version[0] if version else "pgbouncer", "scenarios": {}}
    workdir = tempfile.mkdtemp(prefix="bw-bench-")
    os.chmod(workdir, 0o777)
    ctx = SimpleNamespace(binaries={"breakwater": os.path.abspath(opts.breakwater), "pgbouncer": opts.pgbouncer,
                                    "burst_client": os.path.abspath(opts.burst_client)},
                          workdir=workdir, postgres=Postgres(),
                          count_syscalls=not opts.no_syscalls and syscalls.available())
    ctx.postgres.start()
    try:
        ctx.postgres.pgbench_init(opts.scale)
        for name in names:
            results["scenarios"][name] = run_scenario(name, opts, ctx)
            print(summary_line(name, results["scenarios"][name]), flush=True)
    finally:
        ctx.postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    if opts.quick:
        print(report.markdown(results))
        return
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    stamp = results["date"].replace(":", "-")
    with open(os.path.join(HERE, "results", f"{stamp}.json"), "w") as f:
        json.dump(results, f, indent=1)
    write_report(results)


def write_report(results):
    # The chart beside BENCHMARKS.md shows the latest run; each run's JSON keeps its figures.
    chart_name = "bench/ratios.png" if report.chart(results, os.path.join(HERE, "ratios.png")) else None
    text = report.markdown(results, chart_name)
    print(text)
    with open(os.path.join(HERE, "..", "BENCHMARKS.md"), "w") as f:
        f.write("# Benchmarks\n\nGenerated by `bench/run`: Breakwater and PgBouncer in transaction mode, "
                "`default_pool_size` 20, `max_client_conn` 20000, `listen_backlog` 4096, in front of the same "
                "PostgreSQL 15 on this machine, one after the other.\n\n" + text)


if __name__ == "__main__":
    main()
