"""interlayer.transfer: weights into a model someone already wrote, in the same or the other framework, paired by
structure whatever the layer names and construction order; all or nothing."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import interlayer
from interlayer import examples
from interlayer.transfer import TransferError, transfer, transfer_file
from models.torch_models import randomise
from support import assert_equivalent, assert_varies

# the models, written twice ------------------------------------------------------------------------------------


def keras_lenet(dense: int = 84):
    """LeNet-5 as ``examples.lenet5`` computes it, written in Keras with its own names."""
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(6, 5, padding="same", activation="tanh", name="c1"),
        keras.layers.AveragePooling2D(2, name="s2"),
        keras.layers.Conv2D(16, 5, activation="tanh", name="c3"),
        keras.layers.AveragePooling2D(2, name="s4"),
        keras.layers.Conv2D(120, 5, activation="tanh", name="c5"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(dense, activation="tanh", name="f6"),
        keras.layers.Dense(10, activation="softmax", name="output"),
    ], name="lenet_keras")


class NamedLeNet(nn.Module):
    """``examples.lenet5`` with names instead of Sequential indices, registered in the same order."""

    def __init__(self):
        super().__init__()
        self.c1, self.c3, self.c5 = nn.Conv2d(1, 6, 5, padding=2), nn.Conv2d(6, 16, 5), nn.Conv2d(16, 120, 5)
        self.f6, self.output = nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        x = F.avg_pool2d(torch.tanh(self.c1(x)), 2)
        x = F.avg_pool2d(torch.tanh(self.c3(x)), 2)
        x = torch.flatten(torch.tanh(self.c5(x)), 1)
        return torch.softmax(self.output(torch.tanh(self.f6(x))), dim=1)


def keras_small_cnn(epsilon: float = 1e-5):
    """``examples.small_cnn`` in Keras: its Flatten reads the 5x5x16 map channels-last, and a Dropout sits between
    Flatten and Dense."""
    return keras.Sequential([
        keras.Input((12, 12, 3)),
        keras.layers.Conv2D(8, 3, padding="same", name="conv_a"),
        keras.layers.BatchNormalization(epsilon=epsilon, name="norm_a"),
        keras.layers.ReLU(),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(16, 2, activation="relu", name="conv_b"),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.25),
        keras.layers.Dense(32, activation="relu", name="hidden"),
        keras.layers.Dense(5, name="scores"),
    ], name="small_cnn_keras")


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class ResNet(nn.Module):
    def __init__(self, width: int = 16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.blocks = nn.Sequential(Block(8, 8, 1), Block(8, width, 2), Block(width, width, 1))
        self.fc = nn.Linear(width, 10)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1), 1))


class OtherBlock(nn.Module):
    """Block with other names, the shortcut and the second convolution declared first."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.project = nn.Conv2d(cin, cout, 1, stride, bias=False) if stride != 1 or cin != cout else None
        self.project_norm = nn.BatchNorm2d(cout) if self.project is not None else None
        self.second_norm, self.second = nn.BatchNorm2d(cout), nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.first, self.first_norm = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)

    def forward(self, x):
        skip = x if self.project is None else self.project_norm(self.project(x))
        return F.relu(skip + self.second_norm(self.second(F.relu(self.first_norm(self.first(x))))))


class OtherResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(16, 10)
        self.stage = nn.ModuleList([OtherBlock(8, 8, 1), OtherBlock(8, 16, 2), OtherBlock(16, 16, 1)])
        self.entry, self.entry_norm = nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8)

    def forward(self, x):
        x = F.relu(self.entry_norm(self.entry(x)))
        for block in self.stage:
            x = block(x)
        return self.head(x.mean(dim=(2, 3)))


def keras_resnet(width: int = 16):
    """The ResNet in Keras: each block's shortcut built before its main path, stride-2 padding explicit."""
    image = keras.Input((16, 16, 3), name="image")

    def norm(name):
        return keras.layers.BatchNormalization(epsilon=1e-5, name=name)

    def block(x, cout, stride, name):
        shortcut = x
        if stride != 1 or x.shape[-1] != cout:
            shortcut = keras.layers.Conv2D(cout, 1, strides=stride, use_bias=False, name=f"{name}_proj")(x)
            shortcut = norm(f"{name}_proj_norm")(shortcut)
        if stride != 1:
            x = keras.layers.ZeroPadding2D(1, name=f"{name}_pad")(x)
        y = keras.layers.Conv2D(cout, 3, strides=stride, padding="valid" if stride != 1 else "same", use_bias=False,
                                name=f"{name}_in")(x)
        y = keras.layers.ReLU()(norm(f"{name}_in_norm")(y))
        y = keras.layers.Conv2D(cout, 3, padding="same", use_bias=False, name=f"{name}_out")(y)
        y = norm(f"{name}_out_norm")(y)
        return keras.layers.ReLU()(keras.layers.Add()([shortcut, y]))

    x = keras.layers.Conv2D(8, 3, padding="same", use_bias=False, name="stem")(image)
    x = keras.layers.ReLU()(norm("stem_norm")(x))
    for index, (cout, stride) in enumerate([(8, 1), (width, 2), (width, 1)]):
        x = block(x, cout, stride, f"unit{index}")
    logits = keras.layers.Dense(10, name="logits")(keras.layers.GlobalAveragePooling2D()(x))
    return keras.Model(image, logits, name="resnet_keras")


class Branches(nn.Module):
    """Two parallel branches of equal shapes, merged by ``merge``: 'add' cannot tell them apart, 'cat' can."""

    def __init__(self, merge: str):
        super().__init__()
        self.merge = merge
        self.branch_a, self.branch_b = nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Conv2d(8 if merge == "cat" else 4, 2, 1)

    def forward(self, x):
        a, b = torch.tanh(self.branch_a(x)), torch.tanh(self.branch_b(x))
        return self.head(torch.cat([a, b], 1) if self.merge == "cat" else a + b)


def keras_branches(merge: str):
    image = keras.Input((8, 8, 3))
    left = keras.layers.Conv2D(4, 3, padding="same", activation="tanh", name="left")(image)
    right = keras.layers.Conv2D(4, 3, padding="same", activation="tanh", name="right")(image)
    merged = keras.layers.Concatenate()([left, right]) if merge == "cat" else keras.layers.Add()([left, right])
    return keras.Model(image, keras.layers.Conv2D(2, 1, name="mix")(merged), name="branches")


# helpers ------------------------------------------------------------------------------------------------------


def randomise_keras(model, seed: int = 0):
    """Seeded values for every variable, as ``randomise`` does for PyTorch: kernels scaled by fan-in, biases and
    moving means small, norm scales around 1, moving variances positive."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape, name = tuple(variable.shape), variable.path.rsplit("/", 1)[-1]
        if name == "kernel":
            value = rng.standard_normal(shape) / np.sqrt(np.prod(shape[:-1]))
        elif name == "moving_variance":
            value = rng.uniform(0.5, 1.5, shape)
        elif name == "gamma":
            value = 1.0 + 0.2 * rng.standard_normal(shape)
        else:  # bias, beta, moving_mean
            value = 0.1 * rng.standard_normal(shape)
        variable.assign(value.astype(np.float32))
    return model


def weights_of(model) -> list[np.ndarray]:
    if isinstance(model, nn.Module):
        return [value.detach().numpy().copy() for value in model.state_dict().values()]
    return [np.array(variable) for variable in model.weights]


def assert_unchanged(before: list[np.ndarray], model) -> None:
    after = weights_of(model)
    assert len(before) == len(after)
    assert all(np.array_equal(a, b) for a, b in zip(before, after)), "the destination's weights changed"


def outputs(model, x: np.ndarray) -> np.ndarray:
    """A model's first output on ``x`` (NCHW): as PyTorch takes it, or NHWC for a Keras model."""
    if isinstance(model, nn.Module):
        with torch.no_grad():
            result = model.eval()(torch.from_numpy(x))
        return result.numpy()
    result = np.asarray(model(x.transpose(0, 2, 3, 1), training=False))
    return result.transpose(0, 3, 1, 2) if result.ndim == 4 else result


def images(shape, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)


def check_transfer(source, destination, shape, **options):
    """Transfer, then the destination must compute what the source computes, natively, on seeded images."""
    report = transfer(source, destination, **options)
    x, other = images(shape)
    expected = outputs(source, x)
    assert_varies(expected, outputs(source, other))
    assert_equivalent(outputs(destination, x), expected)
    assert report.verification is not None and report.verification.passed
    return report


# whole models across frameworks and within one ------------------------------------------------------------


@pytest.mark.parametrize("direction", ["torch-to-keras", "keras-to-torch"])
def test_lenet5(direction):
    if direction == "torch-to-keras":
        source, destination = randomise(examples.lenet5()), keras_lenet()
    else:
        source, destination = randomise_keras(keras_lenet()), examples.lenet5()
    report = check_transfer(source, destination, (3, 1, 28, 28))
    assert report.tensors_copied == 10 and report.method == "structure"
    assert report.parameters_copied == sum(p.numel() for p in examples.lenet5().parameters())
    pairs = set(report.node_pairs())
    assert (("9", "f6") if direction == "torch-to-keras" else ("f6", "9")) in pairs


@pytest.mark.parametrize("direction", ["torch-to-keras", "keras-to-torch"])
def test_flatten_of_a_real_map_and_dropout_before_dense(direction):
    if direction == "torch-to-keras":
        source, destination = randomise(examples.small_cnn()), keras_small_cnn()
    else:
        source, destination = randomise_keras(keras_small_cnn()), examples.small_cnn()
    check_transfer(source, destination, (3, 3, 12, 12))


@pytest.mark.parametrize("direction", ["torch-to-keras", "keras-to-torch"])
def test_resnet_with_other_construction_order(direction):
    if direction == "torch-to-keras":
        source, destination = randomise(ResNet()), keras_resnet()
    else:
        source, destination = randomise_keras(keras_resnet()), ResNet()
    report = check_transfer(source, destination, (2, 3, 16, 16))
    projection = ("blocks.1.shortcut.0", "unit1_proj")
    assert (projection if direction == "torch-to-keras" else projection[::-1]) in report.node_pairs()
    assert report.tensors_copied == 42


def test_torch_to_torch_between_differently_named_classes():
    source, destination = randomise(ResNet()), OtherResNet()
    report = check_transfer(source, destination, (2, 3, 16, 16), example_inputs=(1, 3, 16, 16))
    assert ("blocks.1.conv1", "stage.1.first") in report.node_pairs()
    assert ("blocks.1.shortcut.1", "stage.1.project_norm") in report.node_pairs()


class Tagger(nn.Module):
    def __init__(self, batch_first: bool):
        super().__init__()
        self.lstm = nn.LSTM(5, 6, num_layers=2, batch_first=batch_first)
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        return self.head(self.lstm(x)[0])


@pytest.mark.parametrize("source_first", [False, True], ids=["time-major-into-batch-first", "batch-first-into-time-major"])
def test_between_time_major_and_batch_first_twins(source_first):
    source, destination = randomise(Tagger(source_first)), Tagger(not source_first)
    example = torch.zeros((2, 7, 5) if source_first else (7, 2, 5))
    report = transfer(source, destination, example_inputs=example)
    assert report.tensors_copied == 10
    x = torch.randn(2, 7, 5)
    with torch.no_grad():
        time_major = (destination if source_first else source)(x.transpose(0, 1)).transpose(0, 1)
        batch_first = (source if source_first else destination)(x)
    assert_equivalent(time_major.numpy(), batch_first.numpy())


def test_archive_source_into_keras(tmp_path):
    import interlayer

    source = randomise(ResNet())
    graph = interlayer.export(source, example_inputs=(1, 3, 16, 16))
    archive = interlayer.save(graph, tmp_path / "resnet.safetensors")
    destination = keras_resnet()
    report = transfer(archive, destination)
    assert report.verification.passed
    x, _ = images((2, 3, 16, 16))
    assert_equivalent(outputs(destination, x), outputs(source, x))


# all or nothing -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["torch-to-keras", "keras-to-torch"])
def test_a_layer_of_another_width_is_named_and_nothing_is_written(direction):
    wide = nn.Sequential(*[nn.Linear(120, 80) if i == 9 else layer for i, layer in enumerate(examples.lenet5())])
    wide[11] = nn.Linear(80, 10)
    if direction == "torch-to-keras":
        source, destination = randomise(examples.lenet5()), keras_lenet(dense=80)
    else:
        source, destination = randomise_keras(keras_lenet()), wide
    before = weights_of(destination)
    with pytest.raises(TransferError) as caught:
        transfer(source, destination)
    message = str(caught.value)
    assert "'9'" in message and "'f6'" in message and "(84, 120)" in message and "(80, 120)" in message
    assert "'11'" in message and "'output'" in message
    assert "'c1'" not in message, "layers of equal shapes are not problems"
    assert_unchanged(before, destination)


def test_an_extra_layer_in_the_destination_is_named():
    source = randomise(examples.lenet5())
    layers = keras_lenet().layers[:-1]  # without its output layer, then two instead
    destination = keras.Sequential([keras.Input((28, 28, 1)), *layers, keras.layers.Dense(84, name="extra"),
                                    keras.layers.Dense(10, name="final")])
    before = weights_of(destination)
    with pytest.raises(TransferError, match="'extra'|'final'") as caught:
        transfer(source, destination)
    assert "no partner" in str(caught.value)
    assert_unchanged(before, destination)


def test_equal_branches_are_ambiguous_and_a_hint_settles_them():
    source = randomise(Branches("add"))
    destination = keras_branches("add")
    before = weights_of(destination)
    with pytest.raises(TransferError) as caught:
        transfer(source, destination)
    message = str(caught.value)
    assert "branch_a" in message and "'left'" in message and "'right'" in message and "hints=" in message
    assert_unchanged(before, destination)

    report = check_transfer(source, destination, (2, 3, 8, 8), hints={"branch_a": "right"})
    assert {("branch_a", "right"), ("branch_b", "left")} <= set(report.node_pairs())
    kernel = destination.get_layer("right").kernel.numpy()
    np.testing.assert_array_equal(kernel, source.branch_a.weight.detach().numpy().transpose(2, 3, 1, 0))


def test_a_hint_may_name_parameters():
    source, destination = randomise(Branches("add")), keras_branches("add")
    report = transfer(source, destination, hints={"branch_b.weight": "left/kernel"})
    assert ("branch_b", "left") in report.node_pairs()


def test_branches_a_concatenation_orders_are_not_ambiguous():
    report = check_transfer(randomise(Branches("cat")), keras_branches("cat"), (2, 3, 8, 8))
    assert {("branch_a", "left"), ("branch_b", "right")} <= set(report.node_pairs())


def test_unknown_hints_are_named():
    with pytest.raises(TransferError, match="'nowhere' is neither a node nor a parameter of the source"):
        transfer(randomise(Branches("add")), keras_branches("add"), hints={"nowhere": "left"})


def test_a_destination_that_computes_something_else_gets_its_weights_back():
    destination = keras_small_cnn(epsilon=1e-3)  # Keras's default epsilon, not PyTorch's 1e-5
    before = weights_of(destination)
    with pytest.raises(TransferError, match="does not reproduce the source.*epsilon=1e-05 vs 0.001"):
        transfer(randomise(examples.small_cnn()), destination)
    assert_unchanged(before, destination)
    report = transfer(randomise(examples.small_cnn()), destination, verify=False)
    assert report.verification is None and report.unverified == "verify=False"


# weights only -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_a_state_dict_file_into_a_differently_named_torch_model(tmp_path, suffix):
    source = randomise(examples.lenet5())
    path = tmp_path / f"lenet{suffix}"
    if suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(source.state_dict(), str(path))
    else:
        torch.save(source.state_dict(), path)
    destination = NamedLeNet()
    report = transfer(path, destination)
    assert report.method == "position" and report.verification is None and "architecture" in report.unverified
    assert ("0.weight", "c1.weight") in [(p.source, p.destination) for p in report.pairs]
    x, other = images((2, 1, 28, 28))
    assert_varies(outputs(source, x), outputs(source, other))
    assert_equivalent(outputs(destination, x), outputs(source, x))


def test_a_pt_file_that_is_not_a_state_dict_is_never_unpickled(tmp_path):
    path = tmp_path / "whole_model.pt"
    torch.save(examples.lenet5(), path)  # a pickled module, not a state dict
    with pytest.raises(Exception, match="weights_only=True"):
        transfer(path, NamedLeNet())


def test_a_state_dict_in_another_order_is_refused_and_nothing_is_written():
    destination = OtherResNet()  # other names and another registration order than ResNet
    before = weights_of(destination)
    with pytest.raises(TransferError, match="disagree in order"):
        transfer(randomise(ResNet()).state_dict(), destination)
    assert_unchanged(before, destination)


def test_weights_only_into_keras_asks_for_the_architecture():
    with pytest.raises(TransferError, match="weights=") as caught:
        transfer(randomise(examples.lenet5()).state_dict(), keras_lenet())
    assert "architecture" in str(caught.value)


# files --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_transfer_file_from_a_keras_file_into_a_torch_factory(tmp_path, suffix):
    source = randomise_keras(keras_lenet())
    source.save(tmp_path / "source.keras")
    output = tmp_path / f"lenet{suffix}"
    report = transfer_file(tmp_path / "source.keras", "interlayer.examples:lenet5", output)
    assert report.output == str(output) and report.verification.passed
    from interlayer.sources import load_model

    written = load_model("interlayer.examples:lenet5", output)  # read with weights_only=True / safetensors
    x, _ = images((2, 1, 28, 28))
    assert_equivalent(outputs(written, x), outputs(source, x))
    assert not list(tmp_path.glob(".*partial*")), "no temporary file is left behind"


def test_transfer_file_from_a_factory_and_its_weights_into_a_keras_file(tmp_path):
    from safetensors.torch import save_file

    source = randomise(examples.lenet5())
    save_file(source.state_dict(), str(tmp_path / "weights.safetensors"))
    keras_lenet().save(tmp_path / "destination.keras")
    output = tmp_path / "trained.keras"
    report = transfer_file("interlayer.examples:lenet5", tmp_path / "destination.keras", output,
                           weights=tmp_path / "weights.safetensors")
    assert report.verification.passed
    written = keras.saving.load_model(output, compile=False)
    x, _ = images((2, 1, 28, 28))
    assert_equivalent(outputs(written, x), outputs(source, x))


def test_transfer_file_refuses_to_overwrite(tmp_path):
    source = randomise(examples.lenet5())
    source_path = tmp_path / "source.safetensors"
    from safetensors.torch import save_file

    save_file(source.state_dict(), str(source_path))
    output = tmp_path / "out.safetensors"
    output.write_bytes(b"keep me")
    with pytest.raises(interlayer.errors.InterlayerError, match="exists"):
        transfer_file(source_path, "interlayer.examples:lenet5", output)
    assert output.read_bytes() == b"keep me"
    transfer_file(source_path, "interlayer.examples:lenet5", output, overwrite=True)
    from interlayer.sources import load_model

    x, _ = images((2, 1, 28, 28))
    assert_equivalent(outputs(load_model("interlayer.examples:lenet5", output), x), outputs(source, x))


def test_transfer_file_checks_the_output_suffix_before_transferring(tmp_path):
    with pytest.raises(TransferError, match=r"\.keras"):
        transfer_file(randomise(examples.lenet5()), "interlayer.examples:lenet5_keras", tmp_path / "out.pt")
    assert not (tmp_path / "out.pt").exists()


# the report -------------------------------------------------------------------------------------------------


def test_the_report_reads_and_serialises():
    report = transfer(randomise(examples.lenet5()), keras_lenet())
    text = str(report)
    assert "paired by structure: 5 layers, 10 tensors" in text and "9.weight -> lenet_keras/f6/kernel" in text
    assert "verified" in text
    data = report.to_json()
    assert data["tensors_copied"] == 10 and data["verification"]["passed"] is True
    assert {"source": "9.weight", "destination": "lenet_keras/f6/kernel", "source_node": "9",
            "destination_node": "f6", "shape": [120, 84]} in data["pairs"]


def test_a_destination_layer_holding_its_weight_transposed():
    """Hugging Face's Conv1D keeps a linear weight as (in, out); the backend's nn.Linear as (out, in)."""
    from transformers.pytorch_utils import Conv1D

    class Projections(nn.Module):
        def __init__(self, layer):
            super().__init__()
            self.up, self.down = layer(4, 6), layer(6, 3)

        def forward(self, x):
            return self.down(torch.tanh(self.up(x)))

    source = randomise(Projections(nn.Linear))
    destination = Projections(lambda n_in, n_out: Conv1D(n_out, n_in))
    report = check_transfer(source, destination, (2, 4), example_inputs=(1, 4))
    assert ("up.weight", "up.weight") in [(p.source, p.destination) for p in report.pairs]
    np.testing.assert_array_equal(destination.up.weight.detach().numpy(), source.up.weight.detach().numpy().T)


def test_keras_weights_travel_with_their_architecture(tmp_path):
    source = randomise_keras(examples.lenet5_keras())
    source.save_weights(tmp_path / "lenet.weights.h5")
    with pytest.raises(TransferError, match="without their architecture"):
        transfer(tmp_path / "lenet.weights.h5", examples.lenet5())
    output = tmp_path / "lenet.pt"
    report = transfer_file("interlayer.examples:lenet5_keras", "interlayer.examples:lenet5", output,
                           weights=tmp_path / "lenet.weights.h5")
    assert report.verification.passed
    from interlayer.sources import load_model

    x, _ = images((2, 1, 28, 28))
    assert_equivalent(outputs(load_model("interlayer.examples:lenet5", output), x), outputs(source, x))


def test_the_command_line_transfers_into_a_factory_model(tmp_path, capsys):
    """`interlayer transfer SRC --into DST -o OUT`: LeNet-5's weights into a differently named twin."""
    from interlayer.cli import main

    source = tmp_path / "lenet.safetensors"
    torch.manual_seed(0)
    interlayer.save(interlayer.export(randomise(examples.lenet5()), example_inputs=(1, 1, 28, 28)), source)
    output = tmp_path / "twin.safetensors"
    assert main(["transfer", str(source), "--into", "interlayer.examples:lenet5", "-o", str(output)]) == 0
    assert output.is_file() and "verif" in capsys.readouterr().out.lower()
    assert main(["transfer", str(source), "--into", "interlayer.examples:lenet5", "-o", str(output)]) == 2


class ChannelsLastPort(nn.Module):
    """``keras_small_cnn`` ported by hand as people port Keras models: permuted to channels-last before flatten,
    so that the Dense weights keep Keras's column order."""

    def __init__(self):
        super().__init__()
        self.conv_a, self.norm_a = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.conv_b = nn.Conv2d(8, 16, 2)
        self.hidden, self.scores = nn.Linear(400, 32), nn.Linear(32, 5)

    def forward(self, x):
        x = F.max_pool2d(torch.relu(self.norm_a(self.conv_a(x))), 2)
        x = torch.relu(self.conv_b(x)).permute(0, 2, 3, 1)
        return self.scores(torch.relu(self.hidden(torch.flatten(x, 1))))


@pytest.mark.parametrize("verify", [True, False], ids=["verified", "no-verify"])
@pytest.mark.parametrize("direction", ["keras-into-port", "port-into-keras"])
def test_a_port_that_flattens_channels_last(direction, verify):
    """The port flattens a transposed map: transfer reads its columns in that order, in both directions, and
    with --no-verify the weights written are the right ones all the same."""
    if direction == "keras-into-port":
        source, destination = randomise_keras(keras_small_cnn()), ChannelsLastPort()
        options = {"example_inputs": (1, 3, 12, 12)}
    else:
        source, destination = randomise(ChannelsLastPort()), keras_small_cnn()
        options = {"example_inputs": (1, 3, 12, 12)}
    report = transfer(source, destination, verify=verify, **options)
    assert report.tensors_copied == 12
    x, other = images((3, 3, 12, 12))
    expected = outputs(source, x)
    assert_varies(expected, outputs(source, other))
    assert_equivalent(outputs(destination, x), expected)
