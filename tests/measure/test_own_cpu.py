"""vatio's own CPU time: a watched thread counts while it works, not only when it reports."""

from __future__ import annotations

import threading
import time

from vatio.measure.sampler import OwnCpu


def test_a_watched_thread_counts_before_it_reports():
    own = OwnCpu(whole_process=False)
    working, done = threading.Event(), threading.Event()

    def busy() -> None:
        own.watch_thread("recorder")
        began = time.thread_time()
        while time.thread_time() - began < 0.2:
            pass
        working.set()
        done.wait(10)
        own.unwatch_thread("recorder")
        own.report_thread("recorder", time.thread_time())

    thread = threading.Thread(target=busy)
    thread.start()
    assert working.wait(10)
    assert own.total() >= 0.2  # read from the thread's clock: it has not reported yet
    done.set()
    thread.join()
    final = own.total()
    assert final >= 0.2
    assert own.total() == final  # ended: its last report stands, no clock is read


def test_our_own_process_is_read_to_the_nanosecond():
    """/proc counts a process's CPU in 10 ms ticks; vatio's threads are counted to the ns and
    subtracted from it, so our own process must be read as finely (else a sleeping phase is
    charged a tick's worth of machine energy now and then)."""
    import os

    from vatio.measure.attribution import ProcessTree

    tree = ProcessTree(os.getpid())
    times = os.times()  # what this process reaped, in ticks as psutil reads it
    reaped = times.children_user + times.children_system
    before = time.process_time()
    sampled = tree.sample().cpu_s - reaped
    after = time.process_time()
    assert before <= sampled <= after
