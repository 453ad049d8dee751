"""Hugging Face families through torch.export into the archive, then into PyTorch, Keras and ONNX, each checked
against the source model at the example's sizes and at two other sizes (another batch, another sequence length
or image size, as the model allows): the converted models keep the sizes generic.

A handful run in `make test`; every family runs in the slow tier (CI runs both). Families that do not convert
are listed in NOT_CONVERTED with the reason, and a test keeps each of them refused by a clear error (so that a
family starting to convert is noticed and moved into FAMILIES' checks)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import interlayer
from hf_families import FAMILIES, make
from interlayer.conversion import random_inputs
from interlayer.execute import predict
from interlayer.frontends.torch.outputs import flat_outputs
from interlayer.ir import bindings
from interlayer.ir.check import bound_names
from interlayer.tolerance import bounds, relative_error
from support import assert_varies

FAST = ("bert", "llama", "gpt2", "t5", "resnet", "vit")
NOT_CONVERTED = {
    "mixtral": "its mixture of experts routes each token with topk and a grouped matrix product over the chosen "
               "experts (data-dependent)",
}
TARGETS = ("torch", "keras", "onnx")


def _cases():
    marks = {name: [] if name in FAST else [pytest.mark.slow] for name in FAMILIES}
    return [pytest.param(name, id=name, marks=marks[name]) for name in sorted(FAMILIES) if name not in NOT_CONVERTED]


def _sizes(graph) -> list[dict]:
    base = bindings.choose(graph, {name: 2 if name == "N" else 9 for name in bound_names(graph)})
    assert base is not None, f"no sizes keep the guards {graph.guards}"
    return [base, *bindings.alternatives(graph, base)]


def _source_outputs(model, graph, arrays) -> list[np.ndarray]:
    import inspect

    options = {"use_cache": False} if "use_cache" in inspect.signature(model.forward).parameters else {}
    with torch.no_grad():
        result = model(**{spec.name: torch.from_numpy(a) for spec, a in zip(graph.inputs, arrays)}, **options)
    return [value.numpy() for _, value in flat_outputs(result)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """name -> (source model, graph loaded back from its archive)."""
    cache = {}
    folder = tmp_path_factory.mktemp("families")

    def get(name):
        if name not in cache:
            model, specs = make(name)
            graph = interlayer.export(model, example_inputs=specs)
            path = interlayer.save(graph, folder / f"{name}.safetensors")
            cache[name] = model, interlayer.load(path)
        return cache[name]

    return get


@pytest.mark.parametrize("name", _cases())
def test_family_is_captured_with_its_sizes_generic(name, exported):
    model, graph = exported(name)
    sizes = _sizes(graph)
    assert len(sizes) == 3, f"{name}: the graph keeps no size generic beyond the example's: {graph.inputs}"
    for index, chosen in enumerate(sizes):
        arrays = random_inputs(graph, sizes=chosen, seed=index)
        exact, allowed = bounds(graph, arrays)
        source = _source_outputs(model, graph, arrays)
        assert len(source) == len(graph.outputs)
        for spec, value in zip(graph.outputs, source):
            error = relative_error(value, exact[spec.name])
            assert error <= allowed[spec.name].allowed, f"{name} {spec.name} at {chosen}: {error:.2e}"
    first = _source_outputs(model, graph, random_inputs(graph, sizes=sizes[0], seed=0))
    again = _source_outputs(model, graph, random_inputs(graph, sizes=sizes[0], seed=7))
    assert_varies(first[0], again[0], what=f"{name} {graph.outputs[0].name}")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", _cases())
def test_family_runs_in_every_target_at_every_size(name, target, exported):
    model, graph = exported(name)
    built = interlayer.build(graph, target)
    for index, chosen in enumerate(_sizes(graph)):
        arrays = random_inputs(graph, sizes=chosen, seed=index)
        exact, allowed = bounds(graph, arrays)
        actual = predict(built, arrays)
        assert len(actual) == len(graph.outputs)
        for spec, value in zip(graph.outputs, actual):
            error = relative_error(value, exact[spec.name])
            assert error <= allowed[spec.name].allowed, f"{name} -> {target} {spec.name} at {chosen}: {error:.2e}"


@pytest.mark.parametrize("name", sorted(NOT_CONVERTED))
def test_families_that_do_not_convert_are_refused_by_name(name):
    model, specs = make(name)
    with pytest.raises(interlayer.errors.InterlayerError) as info:
        interlayer.export(model, example_inputs=specs)
    assert "cannot be converted" in str(info.value) or "cannot export" in str(info.value)
