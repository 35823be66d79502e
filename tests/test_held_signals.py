"""Ctrl-C and SIGTERM reach a run between simulated days, never inside a kernel call.

numba converts kernel arguments and results with Python code (a numpy Generator
through ``ctypes.cast``); an interrupt raised there crashed a serial sweep with
SIGSEGV about one time in ten (``test_cli_signals``' SIGTERM case).
"""

from __future__ import annotations

import signal
import threading
import traceback

import pytest
from conftest import tiny_scenario

from sim.held_signals import held_signals
from sim.model import CooperationModel


class Stop(Exception):
    """What the test's handler raises."""


@pytest.fixture
def raising_sigterm():
    """A SIGTERM handler that records its frame argument and raises, as a sweep's does."""
    frames = []

    def handler(signum, frame):
        frames.append(frame)
        raise Stop(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    yield frames
    signal.signal(signal.SIGTERM, previous)


def test_a_held_signal_waits_for_the_end_of_the_block_and_the_handler_comes_back(
    raising_sigterm,
):
    handler = signal.getsignal(signal.SIGTERM)
    reached = []
    with pytest.raises(Stop):
        with held_signals():
            assert signal.getsignal(signal.SIGTERM) is not handler  # held
            signal.raise_signal(signal.SIGTERM)
            signal.raise_signal(signal.SIGTERM)
            reached.append("after the signals")
    assert reached == ["after the signals"]
    assert raising_sigterm == [None]  # the first one raised; the second was dropped
    assert signal.getsignal(signal.SIGTERM) is handler


def test_deliver_is_the_safe_point_inside_a_block_and_nested_blocks_share_it(raising_sigterm):
    with held_signals() as outer:
        with held_signals() as inner:
            assert inner is outer
            signal.raise_signal(signal.SIGTERM)
        assert outer.pending == [signal.SIGTERM]  # the inner block's end is not the outer's
        with pytest.raises(Stop):
            outer.deliver()
        assert outer.pending == []


def test_a_handler_that_does_not_raise_is_called_once_per_signal_and_held_again():
    calls = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: calls.append(signum))
    try:
        with held_signals() as held:
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)
            assert calls == []
            held.deliver()
            assert calls == [signal.SIGINT, signal.SIGINT]
            signal.raise_signal(signal.SIGINT)  # held again after the delivery
            assert len(calls) == 2
        assert len(calls) == 3
    finally:
        signal.signal(signal.SIGINT, previous)


def test_the_default_and_ignored_dispositions_are_left_alone():
    # Set both here: another test in this worker may have left SIGINT ignored.
    previous_term = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with held_signals():
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)


def test_outside_the_main_thread_nothing_is_held(raising_sigterm):
    seen = []

    def work():
        with held_signals() as held:
            seen.append((held.pending, signal.getsignal(signal.SIGTERM)))
            held.deliver()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    [(pending, handler)] = seen
    assert pending == [] and handler is not None and handler.__name__ == "handler"


def test_a_signal_during_a_run_stops_it_between_days_with_every_request_accounted_for(
    raising_sigterm,
):
    model = CooperationModel(tiny_scenario(**{"run.years": 30.0}), rng=5)
    timer = threading.Timer(0.3, signal.raise_signal, (signal.SIGTERM,))
    timer.start()
    with pytest.raises(Stop) as stopped:
        model.run()
    timer.join()
    assert 0 < model.day < model.horizon_days  # it stopped mid-run
    # Raised by the hold's delivery between days, not from inside a day.
    frames = [f.name for f in traceback.extract_tb(stopped.value.__traceback__)]
    assert frames[-4:] == ["run", "deliver", "run_handlers", "handler"], frames
    assert raising_sigterm == [None]
    # The day ended whole: every request has one outcome, counted once.
    o = model.outcomes()
    parts = ("executed", "refused", "lapsed", "withdrawn", "open", "drafting")
    assert sum(o[f"requests_{p}"] for p in parts) == o["requests_total"] == model.ledger.size
