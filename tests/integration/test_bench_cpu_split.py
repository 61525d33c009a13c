"""bench/cpu_split.py's reading of a perf report: which samples are the kernel's,
which are a system call's user-side cost, which are the pooler's own code."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
from cpu_split import SAMPLE_HZ, split  # noqa: E402

REPORT = """\
# Samples: 24K of event 'cpu-clock'
# Overhead       Samples  Shared Object         Symbol
#
    40.00%          4000  [kernel.kallsyms]     [k] tcp_sendmsg_locked
    10.00%          1000  [kernel.kallsyms]     [k] __schedule
     8.00%           800  libc.so.6             [.] syscall
     2.00%           200  libc.so.6             [.] epoll_wait
     1.00%           100  libc.so.6             [.] __libc_recv
     5.00%           500  breakwater            [.] breakwater::session::Relay::pump_server(breakwater::session::Relay::Step)
     1.00%           100  libc.so.6             [.] pthread_mutex_lock@@GLIBC_2.2.5
"""


def test_samples_are_split_into_kernel_syscall_entry_and_own_code():
    parts = split(REPORT, transactions=1000)
    per_sample_us = 1e6 / SAMPLE_HZ / 1000
    assert parts["kernel"] == pytest.approx(5000 * per_sample_us)
    assert parts["user_at_syscalls"] == pytest.approx(1100 * per_sample_us)
    # A libc function that is not a system call wrapper is the pooler's own work.
    assert parts["user_own"] == pytest.approx(600 * per_sample_us)


def test_header_lines_count_for_nothing():
    assert split("# Overhead  Samples\n#\n", transactions=10) == {"kernel": 0, "user_at_syscalls": 0, "user_own": 0}
