"""The whole step-profiling path against fake GPUs that model power and time per limit.

A job thread talks to vatio through the real socket and `vatio.power.step()`
protocol; at each step it reads the GPU's power limit *from the fake NVML*
(as set by the real knob), draws the model's power for the model's step time,
and advances a fake clock. Energy comes from the real NVML sensor reading the
fake counter through the real sampler. The choice must equal a brute-force
search over the model, and the GPU must end as it began.
"""

from __future__ import annotations

import threading

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.fakes.nvml import FakeGPU, FakeNVML
from tests.power.test_choice import brute_force
from vatio.devices.nvidia import discover_nvidia
from vatio.measure.sampler import Sampler
from vatio.power import marker
from vatio.power.channel import Channel
from vatio.power.choice import decide
from vatio.power.control import Applier, StepController
from vatio.power.discovery import discover_knobs
from vatio.power.measure import _energy
from vatio.power.plan import make_plan
from vatio.power.restore import PowerSession
from vatio.power.settings import Setting
from vatio.power.sweep import _rows, _windows

STEPS, WARMUP = 3, 1


class SamplerMeter:
    """The sweep's meter on the real sampler (no store, no manifest: fast enough for hypothesis)."""

    def __init__(self, sensors):
        self.sensors = sensors
        self.sampler = Sampler(sensors, interval_s=60.0)  # ticks only on demand here
        self.sampler.start()

    def mark(self):
        return self.sampler.tick()

    def energy(self, before, after):
        return _energy(self.sensors, before, after, "gpu", "machine")

    def stop(self):
        self.sampler.stop()


def run_model(model: dict[int, tuple[int, int]], limits: list[int], max_slowdown, eta):
    """Profile `limits` (W) plus the default 400 W on a GPU behaving as `model`."""
    nvml = FakeNVML([FakeGPU(power_max_mw=400_000, power_limit_mw=400_000)])
    knobs = discover_knobs(nvml=nvml, cpufreq_root="/nonexistent", env={})
    settings_ = [Setting()] + [Setting.of({"gpu_power_limit_w": w}) for w in limits]
    plan = make_plan(settings_, knobs)
    rows = _rows(plan.settings)
    clock = [0.0]
    sensors = discover_nvidia(nvml, env={}).sensors
    meter = SamplerMeter(sensors)

    def pick():
        return decide(rows, max_slowdown=max_slowdown, eta=eta, max_power_w=400.0).index

    channel = Channel()
    with PowerSession(plan.machine_knobs()) as session:
        controller = StepController(
            Applier(session, plan),
            meter,
            _windows(len(rows), 1),
            rows,
            steps=STEPS,
            warmup=WARMUP,
            pick=pick,
            clock=lambda: clock[0],
        )
        server = threading.Thread(target=lambda: controller.serve(channel.accept(lambda: True)))
        server.start()
        link = marker._Link(channel.path)
        limits_seen = []
        for _ in range((STEPS + WARMUP) * len(rows) + 5):
            limit_w = nvml.gpus[0].power_limit_mw // 1000
            limits_seen.append(limit_w)
            step_ms, watts = model[limit_w]
            nvml.run(0, step_ms / 1000, watts=watts)
            clock[0] += step_ms / 1000
            link.step(1)
        link.close()
        server.join(timeout=10)
    channel.close()
    meter.stop()
    knobs.close()
    return controller, rows, nvml, limits_seen


@st.composite
def models(draw):
    limits = draw(st.lists(st.integers(100, 399), min_size=1, max_size=4, unique=True))
    model = {}
    for limit in [400, *limits]:
        model[limit] = (draw(st.integers(5, 60)), draw(st.integers(50, limit)))
    return limits, model


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    case=models(),
    max_slowdown=st.sampled_from([None, 0.0, 0.1, 0.3]),
    eta=st.one_of(st.none(), st.sampled_from([0.0, 0.5, 1.0])),
)
def test_profiled_choice_equals_brute_force_over_the_model(case, max_slowdown, eta):
    limits, model = case
    points = [
        (model[w][0] / 1000 * model[w][1], model[w][0] / 1000) for w in [400, *limits]
    ]  # (J per step, s per step), exactly as the model says
    # exact ties are a coin toss for any measurement: keep models where the rule decides
    scores = [e if eta is None else eta * e + (1 - eta) * 400 * t for e, t in points]
    assume(len({round(x, 9) for x in scores}) == len(scores))
    if max_slowdown is not None:
        bound = points[0][1] * (1 + max_slowdown)
        assume(all(abs(t - bound) > 1e-9 for _, t in points[1:]))
    controller, rows, nvml, seen = run_model(model, limits, max_slowdown, eta)
    expected = brute_force(points, max_slowdown, eta, 400.0)
    assert controller.chosen == expected
    for row, (energy, time_s) in zip(rows, points, strict=True):
        assert (
            abs(row.energy_per_unit_j - energy) < 1e-6 and abs(row.time_per_unit_s - time_s) < 1e-9
        )
    chosen_w = [400, *limits][expected]
    assert seen[-1] == chosen_w  # the rest of the run at the chosen limit
    assert nvml.gpus[0].power_limit_mw == 400_000  # and restored at the end


def test_pause_redoes_the_window_and_an_early_end_is_reported():
    nvml = FakeNVML([FakeGPU()])
    knobs = discover_knobs(nvml=nvml, cpufreq_root="/nonexistent", env={})
    plan = make_plan([Setting(), Setting.of({"gpu_power_limit_w": 200})], knobs)
    rows = _rows(plan.settings)
    meter = SamplerMeter(discover_nvidia(nvml, env={}).sensors)
    channel = Channel()
    with PowerSession(plan.machine_knobs()) as session:
        controller = StepController(
            Applier(session, plan), meter, _windows(2, 1), rows, steps=3, warmup=0, pick=lambda: 0
        )
        server = threading.Thread(target=lambda: controller.serve(channel.accept(lambda: True)))
        server.start()
        link = marker._Link(channel.path)
        link.step(1)
        link.pause()  # evaluation in the middle of the default's window: it starts again
        for _ in range(4):
            link.step(1)
        link.close()
        server.join(timeout=10)
    assert len(rows[0].samples) == 1 and rows[0].samples[0].units == 3
    assert not rows[1].samples
    assert "ended after 5 steps" in controller.notes[0]
    assert nvml.gpus[0].power_limit_mw == 400_000
    channel.close()
    meter.stop()
    knobs.close()
