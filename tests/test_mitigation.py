"""Error mitigation and twirling of the legacy programs, through the real client (issue 18).

GHZ-5 with <Z0 Z1> (exact 1) on fake_manila@aer. Every job has a fixed seed; every bound is a
number of standard errors that the result itself reports.
"""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit, transpile
from qiskit.quantum_info import SparsePauliOp
from qiskit_ibm_runtime import EstimatorV2, SamplerV2

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SEED = 1234
#: Standard errors a mitigated value may lie from its expected value.
Z = 5.0


@pytest.fixture(scope="module")
def ghz(service):
    """The noisy and ideal fake_manila, a GHZ-5 transpiled for it and <Z0 Z1> on its layout."""
    noisy = service.backend("fake_manila@aer")
    circuit = QuantumCircuit(5)
    circuit.h(0)
    for q in range(4):
        circuit.cx(q, q + 1)
    isa = transpile(circuit, backend=noisy, optimization_level=1, seed_transpiler=7)
    observable = SparsePauliOp("IIIZZ").apply_layout(isa.layout)
    return {
        "noisy": noisy,
        "ideal": service.backend("fake_manila@aer_ideal"),
        "isa": isa,
        "zz": observable,
        "measured": transpile(circuit.measure_all(inplace=False), backend=noisy, seed_transpiler=7),
    }


def _estimate(backend, pub, **options):
    estimator = EstimatorV2(mode=backend, options=options)
    estimator.options.simulator.seed_simulator = SEED
    job = estimator.run([pub])
    return job, job.result()


@pytest.fixture(scope="module")
def levels(ghz):
    """<Z0 Z1> at resilience levels 0, 1 and 2 on the noisy backend."""
    pub = (ghz["isa"], ghz["zz"])
    return {level: _estimate(ghz["noisy"], pub, resilience_level=level) for level in (0, 1, 2)}


def test_level_2_beats_level_0(levels) -> None:
    """ZNE with TREX brings <Z0 Z1> closer to 1 than no mitigation, beyond the standard errors."""
    _, r0 = levels[0]
    _, r2 = levels[2]
    err0, std0 = abs(float(r0[0].data.evs) - 1), float(r0[0].data.stds)
    err2, std2 = abs(float(r2[0].data.evs) - 1), float(r2[0].data.stds)
    assert err0 - err2 > Z * np.hypot(std0, std2), (err0, std0, err2, std2)


def test_level_1_applies_trex(levels) -> None:
    """TREX removes the readout error: level 1 is above level 0 beyond the standard errors."""
    _, r0 = levels[0]
    job, r1 = levels[1]
    gain = float(r1[0].data.evs) - float(r0[0].data.evs)
    assert gain > Z * np.hypot(float(r0[0].data.stds), float(r1[0].data.stds))
    assert r1.metadata["resilience"]["measure_mitigation"] is True
    assert r1.metadata["twirling"]["enable_measure"] is True
    assert "Options not applied" not in job.logs()


def test_level_2_has_ibm_zne_fields(levels) -> None:
    """Level 2 returns the fields IBM's results have, with IBM's shapes."""
    _, r2 = levels[2]
    data = r2[0].data
    assert np.shape(data.evs_noise_factors) == (3,)  # IBM's default noise factors: 1, 3, 5
    assert np.shape(data.stds_noise_factors) == np.shape(data.ensemble_stds_noise_factors)
    assert np.shape(data.evs_extrapolated) == (2, 4)  # exponential, linear at 0, 1, 3, 5
    assert np.shape(data.stds_extrapolated) == (2, 4)
    assert r2.metadata["resilience"]["zne_mitigation"] is True
    assert r2[0].metadata["num_randomizations"] > 1


def test_estimator_twirling_without_mitigation(ghz) -> None:
    """Gate and measurement twirling alone keep <Z0 Z1> as noisy as without them."""
    _, result = _estimate(
        ghz["noisy"],
        (ghz["isa"], ghz["zz"]),
        resilience_level=0,
        twirling={"enable_gates": True, "num_randomizations": 8, "shots_per_randomization": 100},
    )
    assert result.metadata["twirling"]["enable_gates"] is True
    assert result[0].metadata["num_randomizations"] == 8
    assert float(result[0].data.evs) < 0.97


def test_sampler_twirling(ghz) -> None:
    """A twirled SamplerV2 job gives as many shots as asked, mostly 00000 and 11111."""
    sampler = SamplerV2(mode=ghz["noisy"])
    sampler.options.simulator.seed_simulator = SEED
    sampler.options.twirling.enable_gates = True
    sampler.options.twirling.enable_measure = True
    sampler.options.twirling.num_randomizations = 10
    job = sampler.run([ghz["measured"]], shots=1000)
    result = job.result()
    counts = result[0].data.meas.get_counts()
    assert sum(counts.values()) == 1000
    assert counts.get("00000", 0) + counts.get("11111", 0) > 600
    assert result.metadata["twirling"]["num_randomizations"] == 10
    assert "Options not applied" not in job.logs()


def test_ideal_skips_the_cost_and_fills_zne_fields(ghz) -> None:
    """On @aer_ideal the options are accepted, nothing is amplified, and the ZNE fields hold the
    unamplified value; the logs and metadata say so."""
    job, result = _estimate(ghz["ideal"], (ghz["isa"], ghz["zz"]), resilience_level=2)
    data = result[0].data
    assert float(data.evs) == pytest.approx(1.0, abs=0.05)
    assert np.all(np.asarray(data.evs_noise_factors) == float(data.evs))
    assert np.shape(data.evs_extrapolated) == (2, 4)
    assert "no noise to mitigate" in result.metadata["resilience"]["note"]
    assert "no noise to mitigate" in job.logs()


def test_invalid_mitigation_options_are_refused() -> None:
    """Mitigation options IBM's options model refuses are a ``ParamsError`` (a 400) at
    submission, with the option named; unset options are not refused."""
    from jupyter_qiskit_runtime.execution.errors import ParamsError
    from jupyter_qiskit_runtime.execution.options import settings_from_options

    zne = {
        "zne_mitigation": True,
        "zne": {"noise_factors": [1, 3], "extrapolator": "double_exponential"},
    }
    with pytest.raises(ParamsError, match="noise_factors"):
        settings_from_options("estimator", {"resilience": zne})
    with pytest.raises(ParamsError, match=r"options\.twirling\.strategy"):
        settings_from_options("sampler", {"twirling": {"strategy": "sometimes"}})
    settings = settings_from_options("estimator", {"twirling": {"enable_gates": True}})
    assert settings.mitigation == {"twirling": {"enable_gates": True}}


def test_noise_learner_result_shape(ghz) -> None:
    """The noise-learner program answers a NoiseLearnerResult of LayerErrors whose Pauli-Lindblad
    rates are those of the simulated noise: positive on the noisy backend, on the layer's
    qubits."""
    from qiskit_ibm_runtime import NoiseLearner
    from qiskit_ibm_runtime.utils.noise_learner_result import (
        LayerError,
        NoiseLearnerResult,
        PauliLindbladError,
    )

    learner = NoiseLearner(mode=ghz["noisy"])
    learner.options.max_layers_to_learn = 2
    job = learner.run([ghz["isa"]])
    result = job.result()
    assert isinstance(result, NoiseLearnerResult)
    assert len(result.data) == 2
    for layer in result.data:
        assert isinstance(layer, LayerError) and isinstance(layer.error, PauliLindbladError)
        assert layer.circuit.num_qubits == len(layer.qubits) == layer.error.num_qubits
        assert "cx" in layer.circuit.count_ops()
        assert np.all(layer.error.rates >= 0) and 0 < float(np.sum(layer.error.rates)) < 0.2
    assert result.metadata["input_options"]["max_layers_to_learn"] == 2


def test_pea_and_pec_through_the_legacy_estimator(ghz, levels) -> None:
    """PEA (ZNE with amplifier "pea") and PEC run with the layers' noise the job derives. Each
    agrees with the exact value within Z of its standard errors (PEA's amplified values fall
    as the noise grows); PEC's error is below level 0's beyond Z standard errors."""
    pub = (ghz["isa"], ghz["zz"])
    _, r0 = levels[0]
    value0, std0 = float(r0[0].data.evs), float(r0[0].data.stds)
    pea = {"zne_mitigation": True, "zne": {"amplifier": "pea"}}
    job, result = _estimate(ghz["noisy"], pub, resilience_level=1, resilience=pea)
    value, std = float(result[0].data.evs), float(result[0].data.stds)
    assert abs(value - 1) < Z * std, (value, std)
    amplified = np.asarray(result[0].data.evs_noise_factors)
    assert amplified.shape == (3,) and amplified[0] > amplified[-1], amplified
    assert "Options not applied" not in job.logs()
    # PEC's spread is larger: the GHZ parity <XXXXX> (exact 1), which the noise biases more than
    # <Z0 Z1>, shows its gain beyond Z standard errors.
    parity = (ghz["isa"], SparsePauliOp("XXXXX").apply_layout(ghz["isa"].layout))
    _, r0 = _estimate(ghz["noisy"], parity, resilience_level=0)
    value0, std0 = float(r0[0].data.evs), float(r0[0].data.stds)
    pec = {"pec_mitigation": True, "pec": {"max_overhead": 100}}
    job, result = _estimate(ghz["noisy"], parity, resilience_level=1, resilience=pec)
    value, std = float(result[0].data.evs), float(result[0].data.stds)
    assert abs(value0 - 1) - abs(value - 1) > Z * np.hypot(std0, std), (value0, value, std)
    assert result.metadata["resilience"]["pec_mitigation"] is True
    assert "derived from the simulator's noise model" in job.logs()


def test_layer_noise_model_from_the_noise_learner(ghz, levels) -> None:
    """A NoiseLearner result given as ``resilience.layer_noise_model`` is the noise PEC uses."""
    from qiskit_ibm_runtime import NoiseLearner

    learned = NoiseLearner(mode=ghz["noisy"], options={"max_layers_to_learn": None})
    errors = learned.run([ghz["isa"]]).result()
    estimator = EstimatorV2(mode=ghz["noisy"])
    estimator.options.simulator.seed_simulator = SEED
    estimator.options.default_precision = 1 / 32  # a quarter of the shots: plumbing, not gain
    estimator.options.resilience.pec_mitigation = True
    estimator.options.resilience.layer_noise_model = errors
    job = estimator.run([(ghz["isa"], ghz["zz"])])
    value, std = float(job.result()[0].data.evs), float(job.result()[0].data.stds)
    assert abs(value - 1) < Z * std, (value, std)
    assert "0 derived from the simulator's noise model" in job.logs()


def test_noise_learner_params_are_checked() -> None:
    """Noise-learner params without circuits, or with an option IBM's learner refuses, are a
    ``ParamsError`` (a 400 at submission) that names what is wrong."""
    import json

    from qiskit_ibm_runtime import RuntimeEncoder

    from jupyter_qiskit_runtime.execution.errors import ParamsError
    from jupyter_qiskit_runtime.execution.programs.noise_learner import decode_learner_params

    circuit = QuantumCircuit(2)
    circuit.cx(0, 1)
    with pytest.raises(ParamsError, match=r"params\.circuits"):
        decode_learner_params(json.dumps({"circuits": []}))
    for options, name in (
        ({"twirling_strategy": "often"}, "twirling_strategy"),
        ({"max_layers_to_learn": -1}, "max_layers_to_learn"),
    ):
        params = json.dumps({"circuits": [circuit], "options": options}, cls=RuntimeEncoder)
        with pytest.raises(ParamsError, match=name):
            decode_learner_params(params)
