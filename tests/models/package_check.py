"""The PyTorch package of a built module (``--to torch -o DIR``: model.py + model.safetensors), written and
imported on its own, must reproduce the module on the model test's own inputs."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from interlayer.backends.torch import predict, write_package
from interlayer.backends.torch.package import load_package
from support import assert_equivalent

RTOL = 1e-6
"""The package holds the module's own layers and weights: it computes the same, up to summation order."""


def assert_package_reproduces(module, inputs, folder: Path) -> None:
    """Write ``module``'s package into ``folder``, import it with ``load_package`` (its model.py alone, no
    interlayer code) and compare it with ``module`` on ``inputs`` (canonical arrays, as the module takes them)."""
    write_package(module, folder)
    loaded = load_package(folder)
    assert type(loaded).__module__.startswith("interlayer_package_"), "the package's own class must be loaded"
    assert list(loaded.state_dict()) == list(module.state_dict()), "the package must keep the module's names"
    arrays = [np.asarray(x) for x in (inputs if isinstance(inputs, (list, tuple)) else [inputs])]
    expected, actual = predict(module, arrays), predict(loaded, arrays)
    assert len(actual) == len(expected), f"the package returns {len(actual)} outputs, the module {len(expected)}"
    for index, (a, e) in enumerate(zip(actual, expected)):
        assert_equivalent(a, e, rtol=RTOL, what=f"package output {index}")
