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
