"""Built-in example models, and the demo that converts one through every hop.

Each factory imports its framework when called. ``lenet5`` is the classic network in PyTorch;
``lenet5_keras`` is its twin written in Keras; ``small_cnn`` has a Flatten that sees a real 16x5x5 map.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

LENET5_INPUT = (1, 1, 28, 28)


def lenet5():
    """LeNet-5: Conv 1->6 k5 p2, Tanh, AvgPool 2, Conv 6->16 k5, Tanh, AvgPool 2, Conv 16->120 k5, Tanh,
    Flatten, Linear 120->84, Tanh, Linear 84->10, Softmax. Takes (N, 1, 28, 28)."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(),
        nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10), nn.Softmax(dim=1),
    )


def lenet5_keras():
    """The Keras twin of :func:`lenet5`. Takes (N, 28, 28, 1)."""
    import keras

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(6, 5, padding="same", activation="tanh"),
        keras.layers.AveragePooling2D(2),
        keras.layers.Conv2D(16, 5, activation="tanh"),
        keras.layers.AveragePooling2D(2),
        keras.layers.Conv2D(120, 5, activation="tanh"),
        keras.layers.Flatten(),
        keras.layers.Dense(84, activation="tanh"),
        keras.layers.Dense(10, activation="softmax"),
    ], name="lenet5")


def small_cnn():
    """Conv, BatchNorm, ReLU, MaxPool, Conv, then Flatten of a real 16x5x5 map into Linear. Takes (N, 3, 12, 12)."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 2), nn.ReLU(), nn.Flatten(),
        nn.Linear(16 * 5 * 5, 32), nn.ReLU(), nn.Linear(32, 5),
    )


def demo(outdir: str | Path, *, seed: int = 0, overwrite: bool = False) -> list[dict[str, Any]]:
    """Convert the built-in LeNet-5: PyTorch -> archive -> Keras -> archive -> PyTorch.

    Writes ``lenet5.safetensors``, ``lenet5.keras`` and ``lenet5_back.safetensors`` into ``outdir`` and returns
    one row per hop: what was compared and the max error relative to the source output's largest magnitude.
    """
    import numpy as np
    import torch

    import interlayer
    from interlayer.execute import predict
    from interlayer.tolerance import relative_error

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    source = lenet5().eval()
    x = np.random.default_rng(seed).standard_normal((8, *LENET5_INPUT[1:])).astype(np.float32)
    expected = predict(source, [x])[0]

    rows = []

    def hop(name: str, model, graph=None) -> None:
        rows.append({"hop": name, "relative_error": relative_error(predict(model, [x], graph)[0], expected)})

    graph = interlayer.export(source, example_inputs=LENET5_INPUT)
    hop("PyTorch -> IR (reference interpreter)", graph)
    archive = interlayer.save(graph, outdir / "lenet5.safetensors", overwrite=overwrite)
    loaded = interlayer.load(archive)
    hop("IR -> archive -> IR", loaded)
    keras_model = interlayer.build(loaded, "keras")
    hop("archive -> Keras (NHWC input)", keras_model)
    keras_path = outdir / "lenet5.keras"
    if keras_path.exists() and overwrite:
        keras_path.unlink()
    keras_model.save(keras_path)
    back_graph = interlayer.export(keras_model)
    interlayer.save(back_graph, outdir / "lenet5_back.safetensors", overwrite=overwrite)
    hop("Keras -> IR", back_graph)
    back = interlayer.build(back_graph, "torch")
    hop("IR -> PyTorch", back)
    same = all(np.array_equal(a, b) for a, b in zip(source.state_dict().values(), back.state_dict().values()))
    rows.append({"hop": "PyTorch weights after the round trip", "bit_identical": same})
    return rows
