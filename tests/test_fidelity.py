"""Fidelity: our server's results against IBM's local testing mode and against the textbook.

Twelve circuits (tests/fidelity_cases.py) are sampled through the real client on a real server,
on ``fake_manila@aer`` (the backend's noise) and ``fake_manila@aer_ideal``, and in process with
IBM's local testing mode (``SamplerV2(mode=FakeManilaV2())``).

The bound on the total-variation distance (TVD): two independent samples of N shots from the same
distribution differ by ``E[TVD] = sum_i sqrt(p_i (1 - p_i) / (pi N))`` on average
(``expected_sampling_tvd``); we allow three times that. The seeds are fixed, so the outcome is
deterministic, and the same bound separates a different noise model: the noise-free results sit
far outside it for the noise-sensitive circuits (checked below, so the test can fail).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.quantum_info import SparsePauliOp
from qiskit_ibm_runtime import EstimatorV2, SamplerV2
from qiskit_ibm_runtime.fake_provider import FakeManilaV2

from .fidelity_cases import expected_sampling_tvd, register_counts, sampler_pubs, transpiled_cases

SHOTS = 4000
SERVER_SEED = 1234
LOCAL_SEED = 4321

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _sample(mode: Any, seed: int) -> list[list[dict[str, dict[str, int]]]]:
    sampler = SamplerV2(mode=mode)
    sampler.options.default_shots = SHOTS
    sampler.options.simulator.seed_simulator = seed
    result = sampler.run(sampler_pubs()).result()
    return [register_counts(pub_result) for pub_result in result]


def _tvd(a: dict[str, int], b: dict[str, int]) -> float:
    na, nb = sum(a.values()), sum(b.values())
    return 0.5 * sum(abs(a.get(k, 0) / na - b.get(k, 0) / nb) for k in set(a) | set(b))


def _pooled(a: dict[str, int], b: dict[str, int]) -> dict[str, float]:
    total = sum(a.values()) + sum(b.values())
    return {k: (a.get(k, 0) + b.get(k, 0)) / total for k in set(a) | set(b)}


def _pairs(ours: list, theirs: list):
    """(case name, parameter set index, register, our counts, their counts) for every register."""
    for (case, _), our_sets, their_sets in zip(transpiled_cases(), ours, theirs, strict=True):
        for index, (our_regs, their_regs) in enumerate(zip(our_sets, their_sets, strict=True)):
            for register, counts in our_regs.items():
                yield case.name, index, register, counts, their_regs[register]


@pytest.fixture(scope="module")
def local_noisy() -> list:
    """IBM's local testing mode on the fake backend, with its noise."""
    return _sample(FakeManilaV2(), LOCAL_SEED)


@pytest.fixture(scope="module")
def server_noisy(service) -> list:
    """Our server, ``fake_manila@aer``."""
    return _sample(service.backend("fake_manila@aer"), SERVER_SEED)


@pytest.fixture(scope="module")
def server_ideal(service) -> list:
    """Our server, ``fake_manila@aer_ideal``."""
    return _sample(service.backend("fake_manila@aer_ideal"), SERVER_SEED)


def test_noisy_counts_match_local_testing_mode(server_noisy, local_noisy):
    checked = 0
    for name, index, register, ours, theirs in _pairs(server_noisy, local_noisy):
        assert sum(ours.values()) == SHOTS, name
        bound = 3 * expected_sampling_tvd(_pooled(ours, theirs), SHOTS)
        distance = _tvd(ours, theirs)
        assert distance <= bound, f"{name}[{index}].{register}: TVD {distance:.4f} > {bound:.4f}"
        checked += 1
    assert checked >= 15  # 12 circuits, a 4-point sweep and a second register


def test_the_bound_tells_noise_from_no_noise(server_ideal, local_noisy):
    """The same bound rejects noise-free counts for circuits the noise visibly changes."""
    rejected = {
        name
        for name, _, register, ours, theirs in _pairs(server_ideal, local_noisy)
        if _tvd(ours, theirs) > 3 * expected_sampling_tvd(_pooled(ours, theirs), SHOTS)
    }
    assert {"ghz5", "phase_estimation", "w_state"} <= rejected


def test_same_seed_gives_local_testing_modes_exact_counts(service):
    """With the same seed, the same circuits give the very counts local testing mode gives."""
    ours = _sample(service.backend("fake_manila@aer"), LOCAL_SEED)
    theirs = _sample(FakeManilaV2(), LOCAL_SEED)
    assert ours == theirs


def test_ideal_counts_are_textbook(server_ideal):
    for (case, _), sets in zip(transpiled_cases(), server_ideal, strict=True):
        for index, registers in enumerate(sets):
            for register, counts in registers.items():
                exact = case.ideal[index][register]
                assert set(counts) <= set(exact), f"{case.name}[{index}]: {counts}"
                # One sample against the exact distribution: E[TVD] = expected / sqrt(2).
                bound = 4 * expected_sampling_tvd(exact, SHOTS) / math.sqrt(2)
                distance = 0.5 * sum(abs(counts.get(k, 0) / SHOTS - exact.get(k, 0)) for k in exact)
                assert distance <= bound + 1e-12, f"{case.name}[{index}]: TVD {distance:.4f}"


def _estimator_pubs() -> list[tuple]:
    backend = FakeManilaV2()
    bell = QuantumCircuit(2)
    bell.h(0)
    bell.cx(0, 1)
    isa = transpile(bell, backend, optimization_level=1, seed_transpiler=11)
    observables = [SparsePauliOp(p).apply_layout(isa.layout) for p in ("ZZ", "XX", "YY", "ZI")]
    return [(isa, observables)]


def _estimate(mode: Any, seed: int) -> tuple[np.ndarray, np.ndarray]:
    estimator = EstimatorV2(mode=mode)
    estimator.options.default_precision = 0.02
    estimator.options.simulator.seed_simulator = seed
    pub_result = estimator.run(_estimator_pubs()).result()[0]
    return np.asarray(pub_result.data.evs), np.asarray(pub_result.data.stds)


def test_noisy_expectation_values_agree_within_standard_errors(service):
    ours, our_stds = _estimate(service.backend("fake_manila@aer"), SERVER_SEED)
    theirs, their_stds = _estimate(FakeManilaV2(), LOCAL_SEED)
    assert np.all(our_stds > 0)
    assert np.all(np.abs(ours - theirs) <= 3 * np.hypot(our_stds, their_stds)), (ours, theirs)
    assert ours[0] < 0.99  # the noise is there: <ZZ> of a noisy Bell pair is below 1


def test_ideal_expectation_values_are_textbook(service):
    evs, stds = _estimate(service.backend("fake_manila@aer_ideal"), SERVER_SEED)
    textbook = np.array([1.0, 1.0, -1.0, 0.0])
    assert np.all(np.abs(evs - textbook) <= np.maximum(4 * stds, 1e-9)), evs
