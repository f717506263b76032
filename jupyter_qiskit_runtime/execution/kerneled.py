"""Kerneled measurement data (``execution.meas_type`` = ``kerneled`` / ``avg_kerneled``).

A device returns, per shot and measured bit, an IQ point: the measurement trace integrated with a
kernel. Aer simulates classified outcomes only (``meas_level=2``; with ``meas_level=1`` it still
returns bits, and ``BackendSamplerV2`` then fails, as IBM's local testing mode does). So the IQ
points are synthesised from the simulated outcomes, which already carry the backend's readout
error under ``@aer``: outcome 0 is centred on ``+1``, outcome 1 on ``-1`` (arbitrary units, as on
a device), each with a circular Gaussian spread of ``IQ_SPREAD``. Classifying a point by the sign of
its real part gives back the simulated outcome except for a negligible tail (5 standard
deviations), so kerneled and classified runs with the same seed tell the same story.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Standard deviation of each IQ blob, in the same arbitrary units as the centres (+1 and -1).
IQ_SPREAD = 0.2


def kerneled_result(result: Any, meas_type: str, seed: int | None) -> Any:
    """The classified ``PrimitiveResult`` of a sampler job turned into IQ data.

    ``kerneled``: per register a complex array of shape ``(*pub_shape, shots, creg_size)``;
    ``avg_kerneled``: the same averaged over shots, ``(*pub_shape, creg_size)``.
    """
    from qiskit.primitives import PrimitiveResult, SamplerPubResult
    from qiskit.primitives.containers import BitArray, DataBin

    rng = np.random.default_rng(seed)
    pub_results = []
    for pub_result in result:
        arrays: dict[str, np.ndarray] = {}
        for name, value in pub_result.data.items():
            if not isinstance(value, BitArray):
                continue
            bits = value.to_bool_array(order="little")
            centres = np.where(bits, -1.0, 1.0)
            noise = rng.normal(0.0, IQ_SPREAD, size=(*bits.shape, 2))
            points = centres + noise[..., 0] + 1j * noise[..., 1]
            arrays[name] = points.mean(axis=-2) if meas_type == "avg_kerneled" else points
        metadata = dict(pub_result.metadata, meas_type=meas_type)
        pub_results.append(
            SamplerPubResult(DataBin(**arrays, shape=pub_result.data.shape), metadata=metadata)
        )
    return PrimitiveResult(pub_results, metadata=result.metadata)
