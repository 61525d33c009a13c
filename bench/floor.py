#!/usr/bin/python3
"""How far each pooler's CPU per transaction is above the floor: what a bare relay
spends on the same pgbench workload on this machine.

The floor is bench/relay_floor.cpp (CMake builds it): one thread over io_uring,
each client paired with a server connection of its own, bytes passed on as they
come, no parsing, no pool, one system call per loop turn. No pooler can do less
per transaction, so its user CPU says how much of a pooler's user CPU is the
pooler's own doing (parsing, pooling, its event loop's layers), and its kernel
CPU how much of the kernel's share any relay pays on this host. It holds 50
server connections where the poolers hold 20, so PostgreSQL's side differs:
compare CPU per transaction, not throughput.

Rounds are interleaved (floor, PgBouncer, Breakwater per round) and the medians
reported, with each figure's ratio to PgBouncer's from the same rounds. A
diagnostic, not a benchmark scenario: bench/run reports the targets.

    bench/floor.py                          # select_simple: -S -M simple -c 50 -j 2
    bench/floor.py --rounds 5 -- -c 50 -j 2 # tpcb
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from processes import CLOCK_TICKS, PG_BIN, Pooler, Postgres, cpu_seconds, free_port, wait_for_port  # noqa: E402
from scenarios import parse_pgbench  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class NoRing(Exception):
    """relay_floor cannot run on this host: io_uring is disabled (a container's seccomp, a sysctl)."""


class Floor:
    """bench/relay_floor in front of `postgres`, started and stopped as a Pooler is."""

    NO_RING = 3  # relay_floor's exit status where io_uring cannot be used

    def __init__(self, binary, postgres):
        self.kind, self.binary, self.postgres = "floor", binary, postgres
        self.port = free_port()
        self.proc = self.pid = None

    def start(self):
        self.proc = subprocess.Popen([self.binary, str(self.port), str(self.postgres.port)])
        try:
            wait_for_port(self.port, self.proc, "relay_floor")
        except RuntimeError:
            if self.proc.poll() == self.NO_RING:
                raise NoRing() from None
            raise
        self.pid = self.proc.pid
        return self

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def measure(target, pgbench_args, seconds):
    """{"tps", "tx", "user_us", "kernel_us", "user_ticks"} for one pgbench run through `target`."""
    target.start()
    try:
        before = cpu_seconds(target.pid)
        out = subprocess.run([f"{PG_BIN}/pgbench", "-h", "127.0.0.1", "-p", str(target.port), "-U", "postgres", "-n",
                              *pgbench_args, "-T", str(seconds), "postgres"], capture_output=True, text=True)
        after = cpu_seconds(target.pid)
    finally:
        target.stop()
    result = parse_pgbench(out.stdout + out.stderr)
    if out.returncode != 0 or not result["transactions"]:
        raise RuntimeError(f"pgbench through {target.kind} failed: {(out.stdout + out.stderr)[-1000:]}")
    tx = result["transactions"]
    user, kernel = after[0] - before[0], after[1] - before[1]
    # utime counts in clock ticks (10 ms): the floor's few ticks are shown, so its resolution is plain.
    return {"tps": result["tps"], "tx": tx, "user_us": user * 1e6 / tx, "kernel_us": kernel * 1e6 / tx,
            "user_ticks": round(user * CLOCK_TICKS)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, "build", "breakwater"))
    parser.add_argument("--floor", default=os.path.join(ROOT, "build", "relay_floor"))
    parser.add_argument("--workers", default="1,2", help="Breakwater's workers settings to run, comma-separated")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("pgbench_args", nargs="*", default=["-S", "-M", "simple", "-c", "50", "-j", "2"])
    args = parser.parse_args()
    for tool in (args.binary, args.floor, "/usr/sbin/pgbouncer", f"{PG_BIN}/pgbench"):
        if not os.path.exists(tool):
            sys.exit(f"floor: {tool} is missing (bench/run installs what the benchmarks need; CMake builds the rest)")

    postgres = Postgres().start()
    workdir = tempfile.mkdtemp(prefix="bw-floor-")
    os.chmod(workdir, 0o777)
    labels = ["floor", "pgbouncer"] + [f"breakwater w{w}" for w in args.workers.split(",")]
    runs = {label: [] for label in labels}
    try:
        postgres.pgbench_init(10)
        print(f"pgbench {' '.join(args.pgbench_args)}, {args.seconds} s, {args.rounds} interleaved rounds")
        for round_number in range(args.rounds):
            for label in list(labels):
                if label == "floor":
                    target = Floor(args.floor, postgres)
                elif label == "pgbouncer":
                    target = Pooler("pgbouncer", "/usr/sbin/pgbouncer", postgres, workdir,
                                    extra={"listen_backlog": 4096})
                else:
                    target = Pooler("breakwater", args.binary, postgres, workdir,
                                    extra={"listen_backlog": 4096, "workers": label.split(" w")[1]})
                try:
                    result = measure(target, args.pgbench_args, args.seconds)
                except NoRing:
                    print("  io_uring is not available here: the floor is left out")
                    labels.remove(label)
                    del runs[label]
                    continue
                runs[label].append(result)
                print(f"  round {round_number + 1} {label:15} {result['tps']:>9.0f} tps  user {result['user_us']:6.2f} "
                      f"({result['user_ticks']} ticks)  kernel {result['kernel_us']:6.2f} us/tx", flush=True)
    finally:
        postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    median = {label: {key: statistics.median(r[key] for r in rows) for key in ("tps", "user_us", "kernel_us")}
              for label, rows in runs.items()}
    pgb = median["pgbouncer"]
    print(f"\n{'median':15}{'tps':>9}{'user us/tx':>12}{'kernel us/tx':>14}{'user / PgB':>12}{'total / PgB':>13}")

    def ratio(value, reference):  # a very short run may give PgBouncer no tick of user time at all
        return f"{value / reference:.2f}x" if reference > 0 else "-"

    for label, m in median.items():
        print(f"{label:15}{m['tps']:>9.0f}{m['user_us']:>12.2f}{m['kernel_us']:>14.2f}"
              f"{ratio(m['user_us'], pgb['user_us']):>12}"
              f"{ratio(m['user_us'] + m['kernel_us'], pgb['user_us'] + pgb['kernel_us']):>13}")


if __name__ == "__main__":
    main()
