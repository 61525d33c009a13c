"""The benchmark's scenarios and how one run of each is measured.

A run starts a fresh pooler, measures it from /proc (CPU user and kernel apart, RSS)
and, where perf can, counts its system calls; it returns a flat dict of figures.
Targets: "breakwater" and "pgbouncer" with the same pgbouncer.ini, "breakwater_1w"
(Breakwater with one worker, one thread as PgBouncer) where what a second thread
gains or costs is shown, "direct" where PostgreSQL itself can take the load."""

import glob
import json
import os
import re
import subprocess

import swarm
from processes import PG_BIN, Pooler, cpu_seconds, current_rss_kib, peak_rss_kib
from syscalls import SyscallCounter

# kind "pgbench": arguments, clients, targets. "idle": clients held idle (swarm.py); "burst": opened at once.
SCENARIOS = {
    "select_simple": {"kind": "pgbench", "args": ["-S", "-M", "simple"], "clients": 50, "direct": True,
                      "one_worker": True},
    "select_extended": {"kind": "pgbench", "args": ["-S", "-M", "extended"], "clients": 50, "direct": True,
                        "one_worker": True},
    "tpcb": {"kind": "pgbench", "args": ["-M", "simple"], "clients": 50, "direct": True, "one_worker": True},
    "connect_storm": {"kind": "pgbench", "args": ["-C", "-S", "-M", "simple"], "clients": 50, "direct": True,
                      "one_worker": True},
    "many_clients": {"kind": "pgbench", "args": ["-S", "-M", "simple"], "clients": 1000, "direct": False},
    "latency": {"kind": "pgbench", "args": ["-S", "-M", "simple"], "clients": 1, "direct": True},
    # The pooler is the bottleneck: a trivial query, more clients than servers.
    "pooler_bound": {"kind": "pgbench", "args": ["-M", "simple", "-f", "select1.sql"], "clients": 100,
                     "direct": False, "one_worker": True},
    # Tail latency at the same load for both: paced (pgbench -R) at a share of the
    # slower pooler's unpaced rate, measured just before. Unpaced, each scenario's
    # p99 is taken at whatever rate each pooler reaches, and the faster one drives
    # this shared machine harder (docs/performance.md).
    "paced_tail": {"kind": "pgbench", "args": ["-S", "-M", "simple"], "clients": 100, "direct": False,
                   "one_worker": True, "pace": 0.6},
    "idle_memory": {"kind": "idle", "clients": 10000},
    "burst": {"kind": "burst", "clients": 10000},
}

QUICK_CLIENTS = {"many_clients": 100, "idle_memory": 300, "burst": 300}

# Same for both poolers; the kernel's own cap (somaxconn) still applies.
COMMON_SETTINGS = {"listen_backlog": 4096}


def targets_of(spec):
    if spec["kind"] != "pgbench":
        return ["breakwater", "pgbouncer"]
    return (["breakwater"] + (["breakwater_1w"] if spec.get("one_worker") else []) + ["pgbouncer"]
            + (["direct"] if spec["direct"] else []))


def start_pooler(target, binaries, postgres, workdir):
    settings = dict(COMMON_SETTINGS)
    if target == "breakwater_1w":
        settings["workers"] = 1
    kind = "pgbouncer" if target == "pgbouncer" else "breakwater"
    return Pooler(kind, binaries[kind], postgres, os.path.join(workdir, target), extra=settings).start()


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


def run_pgbench(port, spec, clients, seconds, workdir):
    prefix = os.path.join(workdir, "pgbench_log")
    with open(os.path.join(workdir, "select1.sql"), "w") as f:
        f.write("SELECT 1;\n")
    # Sample latencies lightly: a log line per transaction would cost the client CPU it shares with the pooler.
    paced = ["-R", str(int(spec["rate"]))] if spec.get("rate") else []
    cmd = [f"{PG_BIN}/pgbench", *spec["args"], *paced, "-c", str(clients), "-j", str(min(2, clients)), "-T", str(seconds),
           "--log", "--sampling-rate=0.05", f"--log-prefix={prefix}",
           "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "postgres"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 300, cwd=workdir)
    result = parse_pgbench(out.stdout + out.stderr)
    result["p99_ms"] = p99_from_logs(prefix)
    if out.returncode != 0 or result["tps"] is None:
        result["error"] = (out.stdout + out.stderr)[-2000:]
    return result


def per_100k(result, count_key):
    count = result.get(count_key) or 0
    if count:
        result["cpu_user_s_per_100k"] = result["cpu_user_s"] * 100000 / count
        result["cpu_sys_s_per_100k"] = result["cpu_sys_s"] * 100000 / count


def run_pgbench_scenario(target, spec, clients, seconds, ctx):
    if target == "direct":
        return run_pgbench(ctx.postgres.port, spec, clients, seconds, ctx.workdir)
    pooler = start_pooler(target, ctx.binaries, ctx.postgres, ctx.workdir)
    counter = SyscallCounter(pooler.pid, ctx.workdir).start() if ctx.count_syscalls else None
    try:
        before = cpu_seconds(pooler.pid)
        result = run_pgbench(pooler.port, spec, clients, seconds, ctx.workdir)
        after = cpu_seconds(pooler.pid)
        syscalls = counter.stop() if counter else None
        result["peak_rss_kib"] = peak_rss_kib(pooler.pid)
    finally:
        pooler.stop()
    result["cpu_user_s"], result["cpu_sys_s"] = after[0] - before[0], after[1] - before[1]
    per_100k(result, "transactions")
    if syscalls and result.get("transactions"):
        for kind, count in syscalls.items():
            result[f"syscalls_per_tx_{kind}"] = max(0, count) / result["transactions"]
    return result


def run_idle_scenario(target, clients, ctx):
    """RSS of the pooler holding `clients` idle clients that each ran SELECT 1."""
    pooler = start_pooler(target, ctx.binaries, ctx.postgres, ctx.workdir)
    try:
        # A first client warms the pool up, so the baseline holds the server connections too.
        swarm.hold_idle(pooler.port, 1, lambda: None)
        baseline = current_rss_kib(pooler.pid)
        failures, loaded = swarm.hold_idle(pooler.port, clients, lambda: current_rss_kib(pooler.pid))
    finally:
        pooler.stop()
    return {"clients": clients, "failed": len(failures), "rss_baseline_kib": baseline, "rss_loaded_kib": loaded,
            "rss_per_client_kib": (loaded - baseline) / clients, "first_failure": failures[0] if failures else None}


def run_burst_scenario(target, clients, ctx):
    """`clients` connect at the same instant and run SELECT 1: time to the last answer.
    The clients are bench/burst_client.cpp's (one epoll loop): the Python swarm took
    about 3.5 s of CPU for 10,000 of them, and the scenario timed it, not the pooler."""
    pooler = start_pooler(target, ctx.binaries, ctx.postgres, ctx.workdir)
    try:
        before = cpu_seconds(pooler.pid)
        out = subprocess.run([ctx.binaries["burst_client"], str(pooler.port), str(clients)], capture_output=True,
                             text=True, timeout=180)
        after = cpu_seconds(pooler.pid)
        peak = peak_rss_kib(pooler.pid)
    finally:
        pooler.stop()
    if out.returncode != 0:
        raise RuntimeError(f"burst_client failed: {out.stderr.strip()}")
    burst = json.loads(out.stdout)
    result = {"clients": clients, "served": burst["served"], "failed": burst["failed"],
              "seconds_to_last": burst["seconds_to_last"], "seconds_p50": burst["seconds_p50"],
              "seconds_p99": burst["seconds_p99"], "cpu_user_s": after[0] - before[0],
              "cpu_sys_s": after[1] - before[1], "peak_rss_kib": peak, "first_failure": burst["first_failure"]}
    per_100k(result, "served")
    return result


def pace_for(spec, clients, seconds, ctx):
    """The rate a paced scenario runs at: its share of the slower pooler's unpaced
    transactions per second, each measured over `seconds`."""
    unpaced = [run_pgbench_scenario(target, spec, clients, seconds, ctx)["tps"] or 0
               for target in ("breakwater", "pgbouncer")]
    return max(1, int(spec["pace"] * min(unpaced)))


def run_scenario_once(name, target, clients, seconds, ctx, rate=None):
    spec = dict(SCENARIOS[name], rate=rate)
    if spec["kind"] == "pgbench":
        return run_pgbench_scenario(target, spec, clients, seconds, ctx)
    if spec["kind"] == "idle":
        return run_idle_scenario(target, clients, ctx)
    return run_burst_scenario(target, clients, ctx)
