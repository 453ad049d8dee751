"""Whole models through ONNX: PyTorch models exported by torch.onnx (the legacy TorchScript exporter at opsets 13-17
with a dynamic batch, and the dynamo exporter with a dynamic batch), and Keras models written as ONNX by interlayer's
own ONNX backend (Keras 3's ``model.export(format="onnx")`` needs tf2onnx, which is not installed). Each ONNX model
is read by the ONNX frontend; the reference interpreter and the graph built by each backend must match onnxruntime
on the ONNX model within 1e-5, for a batch size other than the exported one."""
from __future__ import annotations

import importlib
import io
import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

import interlayer
from interlayer import examples
from interlayer.execute import predict
from package_check import assert_package_reproduces
from support import assert_equivalent, assert_varies
from torch_models import ResidualNet, randomise

BACKENDS = ("torch", "keras")


class LSTMNet(nn.Module):
    """Two stacked LSTM layers (batch_first) and a linear head on the last step."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(6, 12, num_layers=2, batch_first=True)
        self.head = nn.Linear(12, 4)

    def forward(self, x):
        sequence, _ = self.lstm(x)
        return self.head(sequence[:, -1])


def transformer():
    layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, dropout=0.0, batch_first=True)
    return nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)


TORCH_MODELS = {
    "lenet5": (examples.lenet5, examples.LENET5_INPUT),
    "small_cnn": (examples.small_cnn, (1, 3, 12, 12)),
    "residual_net": (ResidualNet, (1, 3, 16, 16)),
    "lstm": (LSTMNet, (1, 7, 6)),
    "transformer_encoder": (transformer, (1, 5, 16)),
}


def torch_onnx(name: str, exporter: str) -> onnx.ModelProto:
    """The randomised model exported with a dynamic batch: ``legacy@<opset>`` or ``dynamo``."""
    factory, shape = TORCH_MODELS[name]
    model = randomise(factory())
    example = torch.randn(2, *shape[1:], generator=torch.Generator().manual_seed(0))
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter == "dynamo":
            torch.onnx.export(model, (example,), buffer, dynamo=True,
                              dynamic_shapes=({0: torch.export.Dim("batch")},))
        else:
            torch.onnx.export(model, (example,), buffer, dynamo=False, opset_version=int(exporter.split("@")[1]),
                              input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    return onnx.load_from_string(buffer.getvalue())


def check_everywhere(proto: onnx.ModelProto, batch: int = 3) -> interlayer.Graph:
    """Reference interpreter, PyTorch build and Keras build == onnxruntime on the ONNX model."""
    graph = interlayer.export(proto)
    assert graph.inputs[0].shape[0] == "N"
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    arrays = [_input(spec.shape, batch, seed=1) for spec in graph.inputs]
    expected = session.run(None, {spec.name: array for spec, array in zip(session.get_inputs(), arrays)})
    reference = list(interlayer.run(graph, arrays).values())
    for backend in BACKENDS:
        built = interlayer.build(graph, backend)
        run = importlib.import_module("interlayer.backends.torch").predict if backend == "torch" else predict
        for index, (got, want) in enumerate(zip(run(built, arrays), expected)):
            assert_equivalent(got, want, what=f"{backend} output {index}")
        if backend == "torch":
            with tempfile.TemporaryDirectory() as folder:
                assert_package_reproduces(built, arrays, Path(folder) / "package")
    for index, (got, want) in enumerate(zip(reference, expected)):
        assert_equivalent(got, want, what=f"reference output {index}")
    other = list(interlayer.run(graph, [_input(spec.shape, batch, seed=2) for spec in graph.inputs]).values())
    assert_varies(other[0], reference[0])
    return graph


def _input(shape, batch: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((batch, *shape[1:])).astype(np.float32)


LEGACY = [
    pytest.param("lenet5", "legacy@13", id="lenet5-legacy-opset13"),
    pytest.param("small_cnn", "legacy@14", id="small_cnn-legacy-opset14"),
    pytest.param("residual_net", "legacy@15", id="residual_net-legacy-opset15"),
    pytest.param("lstm", "legacy@16", id="lstm-legacy-opset16"),
    pytest.param("transformer_encoder", "legacy@17", id="transformer_encoder-legacy-opset17"),
]
DYNAMO = [
    pytest.param("lenet5", "dynamo", id="lenet5-dynamo"),
    pytest.param("lstm", "dynamo", id="lstm-dynamo"),
    pytest.param("small_cnn", "dynamo", id="small_cnn-dynamo", marks=pytest.mark.slow),
    pytest.param("residual_net", "dynamo", id="residual_net-dynamo", marks=pytest.mark.slow),
    pytest.param("transformer_encoder", "dynamo", id="transformer_encoder-dynamo", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("name, exporter", LEGACY + DYNAMO)
def test_torch_onnx_export(name, exporter):
    check_everywhere(torch_onnx(name, exporter))


@pytest.mark.parametrize("opset", [13, 14, 15, 16, 17])
def test_lenet5_at_every_legacy_opset(opset):
    graph = check_everywhere(torch_onnx("lenet5", f"legacy@{opset}"))
    assert [node.op for node in graph.nodes] == ["conv", "tanh", "avg_pool", "conv", "tanh", "avg_pool", "conv",
                                                 "tanh", "flatten", "linear", "tanh", "linear", "softmax"]


def test_lstm_export_is_two_lstm_layers_and_a_head():
    graph = check_everywhere(torch_onnx("lstm", "legacy@16"))
    assert [node.op for node in graph.nodes] == ["lstm", "lstm", "split", "flatten", "linear"]


def test_residual_net_keeps_both_outputs_and_the_onnx_names():
    graph = check_everywhere(torch_onnx("residual_net", "legacy@15"), batch=1)
    assert len(graph.outputs) == 2
    assert all(name in graph.source["name_map"] for name in ("fc.weight", "fc.bias"))


def keras_cnn():
    """Conv, BatchNormalization (randomised statistics), ReLU, MaxPool, Conv, global pooling and Dense."""
    import keras

    model = keras.Sequential([
        keras.Input((12, 12, 3)),
        keras.layers.Conv2D(8, 3, padding="same"),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(6, 3, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(5),
    ], name="keras_cnn")
    rng = np.random.default_rng(0)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(np.float32) if "variance" in v.path
                               else (rng.standard_normal(w.shape) * (0.3 if w.ndim > 1 else 0.2)).astype(np.float32)
                               for w, v in zip(weights, layer.weights)])
    return model


KERAS_MODELS = [
    pytest.param(examples.lenet5_keras, id="lenet5_keras"),
    pytest.param(keras_cnn, id="keras_cnn"),
]


@pytest.mark.parametrize("make", KERAS_MODELS)
def test_keras_model_written_as_onnx_by_interlayer(make):
    proto = interlayer.build(interlayer.export(make()), "onnx")
    check_everywhere(proto)


class FirstOutput(nn.Module):
    """A Hugging Face model as torch.onnx exports it: one positional input, its first output."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x)[0]


def _hugging_face(name: str) -> tuple[nn.Module, torch.Tensor]:
    import transformers

    sizes = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64}
    torch.manual_seed(0)
    if name == "bert":
        model = transformers.BertModel(transformers.BertConfig(vocab_size=100, **sizes))
        return FirstOutput(randomise(model)).eval(), torch.randint(0, 100, (2, 7))
    model = transformers.ViTModel(transformers.ViTConfig(image_size=32, patch_size=8, **sizes))
    return FirstOutput(randomise(model)).eval(), torch.randn(2, 3, 32, 32)


@pytest.mark.parametrize("name", ["bert", "vit"])
def test_hugging_face_models_exported_by_torch_onnx(name, tmp_path):
    """BertEmbeddings' gather of its token-type buffer is folded (onnx.reference cannot evaluate that
    GatherElements); attention's shape arithmetic folds into reshapes that keep the batch."""
    model, example = _hugging_face(name)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), buffer, dynamo=False, opset_version=17, input_names=["x"],
                          dynamic_axes={"x": {0: "batch"}})
    graph = interlayer.export(onnx.load_from_string(buffer.getvalue()))
    rng = np.random.default_rng(3)
    x = rng.integers(0, 100, (3, 7)) if name == "bert" else rng.standard_normal((3, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()
    for backend in BACKENDS:
        built = interlayer.build(graph, backend)
        assert_equivalent(predict(built, [x])[0], expected, what=f"{name} {backend}")
        if backend == "torch":
            assert_package_reproduces(built, [x], tmp_path / "package")
