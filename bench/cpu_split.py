#!/usr/bin/python3
"""Where each pooler's CPU per transaction goes: kernel, user time spent on the
instruction that enters the kernel, and the pooler's own code.

The benchmark's user CPU (utime from /proc) is not all the pooler's own code. On a
virtual machine a system call's entry and exit cost user time too: perf's samples
land on the instruction after `syscall`, inside the libc wrapper (`syscall`, `__send`,
`__libc_recv`, `epoll_wait`, ...). This diagnostic samples both poolers with
`perf record` on one pgbench workload and splits their time per transaction three
ways, so a change can be judged on the part it touches. It is a profiling aid, not a
benchmark scenario: perf slows both poolers a little, equally.

    bench/cpu_split.py                      # select_simple: -S -M simple -c 50 -j 2
    bench/cpu_split.py --workers 2 -- -c 50 -j 2      # tpcb, two workers
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from processes import PG_BIN, Pooler, Postgres  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE_HZ = 4999
# libc's system call wrappers, where a system call's user-side cost is sampled.
SYSCALL_SYMBOLS = re.compile(r"^(syscall|__send|__libc_send|__libc_recv|__libc_recvfrom|__libc_sendto|epoll_wait|"
                             r"epoll_ctl|accept4?|__close|__libc_write|__libc_read|__write|__read|writev|readv)$")


def split(report_text, transactions):
    """{"kernel", "user_at_syscalls", "user_own"} in microseconds per transaction."""
    kernel = at_syscalls = own = 0
    for line in report_text.splitlines():
        fields = line.split()
        if len(fields) < 5 or not fields[0].endswith("%") or not fields[1].isdigit():
            continue
        samples, dso, symbol = int(fields[1]), fields[2], " ".join(fields[4:])
        if "kernel" in dso:
            kernel += samples
        elif SYSCALL_SYMBOLS.match(symbol):
            at_syscalls += samples
        else:
            own += samples
    per_tx = 1e6 / SAMPLE_HZ / transactions
    return {"kernel": kernel * per_tx, "user_at_syscalls": at_syscalls * per_tx, "user_own": own * per_tx}


def profile(pooler, pgbench_args, seconds, workdir):
    data = os.path.join(workdir, f"{pooler.kind}.perf")
    subprocess.run([f"{PG_BIN}/pgbench", "-h", "127.0.0.1", "-p", str(pooler.port), "-U", "postgres", "-n", "-S",
                    "-c", "4", "-T", "1", "postgres"], capture_output=True, check=True)  # warm the pool
    recorder = subprocess.Popen(["perf", "record", "-F", str(SAMPLE_HZ), "-e", "cpu-clock", "-p", str(pooler.pid),
                                 "-o", data], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    out = subprocess.run([f"{PG_BIN}/pgbench", "-h", "127.0.0.1", "-p", str(pooler.port), "-U", "postgres", "-n",
                          *pgbench_args, "-T", str(seconds), "postgres"], capture_output=True, text=True, check=True)
    recorder.send_signal(signal.SIGINT)
    recorder.wait(timeout=30)
    transactions = int(re.search(r"processed: (\d+)", out.stdout).group(1))
    report = subprocess.run(["perf", "report", "-i", data, "--sort=dso,sym", "--stdio", "-F", "overhead,sample,dso,sym"],
                            capture_output=True, text=True, check=True).stdout
    return transactions, split(report, transactions)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, "build", "breakwater"))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("pgbench_args", nargs="*", default=["-S", "-M", "simple", "-c", "50", "-j", "2"])
    args = parser.parse_args()
    for tool in ("perf", "/usr/sbin/pgbouncer", f"{PG_BIN}/pgbench"):
        if shutil.which(tool) is None and not os.path.exists(tool):
            sys.exit(f"cpu_split: {tool} is missing (bench/run installs what the benchmarks need)")

    postgres = Postgres().start()
    workdir = tempfile.mkdtemp(prefix="bw-cpu-split-")
    os.chmod(workdir, 0o777)
    try:
        postgres.pgbench_init(1)
        poolers = [Pooler("breakwater", args.binary, postgres, workdir, extra={"workers": args.workers}),
                   Pooler("pgbouncer", "/usr/sbin/pgbouncer", postgres, workdir)]
        print(f"pgbench {' '.join(args.pgbench_args)}, {args.seconds} s; Breakwater workers = {args.workers}")
        print(f"{'':12}{'tx':>9}{'kernel':>10}{'user at syscalls':>18}{'user, own code':>16}   (us per transaction)")
        for pooler in poolers:
            pooler.start()
            try:
                transactions, parts = profile(pooler, args.pgbench_args, args.seconds, workdir)
            finally:
                pooler.stop()
            print(f"{pooler.kind:12}{transactions:>9}{parts['kernel']:>10.2f}{parts['user_at_syscalls']:>18.2f}"
                  f"{parts['user_own']:>16.2f}", flush=True)
    finally:
        postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
