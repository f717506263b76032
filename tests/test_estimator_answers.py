"""EstimatorV2 answers shaped as IBM's, through the stock client and a real server (#15 6a)."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.quantum_info import SparsePauliOp
from qiskit_ibm_runtime import EstimatorV2

from .circuits import bell_isa

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.mark.parametrize("backend", ["fake_manila@aer_ideal", "fake_manila@aer"])
def test_stds_are_arrays_of_the_pub_shape(service, backend: str) -> None:
    """A PUB of shape () gives 0-d arrays for evs and stds (``stds.shape`` works, as on IBM);
    a PUB of shape (2,) gives arrays of shape (2,)."""
    circuit = bell_isa().remove_final_measurements(inplace=False)
    zz = SparsePauliOp("ZZ").apply_layout(circuit.layout)
    zi = SparsePauliOp("ZI").apply_layout(circuit.layout)
    estimator = EstimatorV2(mode=service.backend(backend))
    scalar, vector = estimator.run([(circuit, zz), (circuit, [zz, zi])], precision=0.05).result()
    for data, shape in ((scalar.data, ()), (vector.data, (2,))):
        assert isinstance(data.evs, np.ndarray) and data.evs.shape == shape
        assert isinstance(data.stds, np.ndarray) and data.stds.shape == shape
        assert np.all(data.stds >= 0)
    assert float(scalar.data.evs) == pytest.approx(1.0, abs=0.3)
