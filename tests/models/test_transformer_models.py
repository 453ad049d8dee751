"""Hugging Face transformers built from configs with seeded random weights (never downloaded), converted
PyTorch -> archive -> Keras and PyTorch -> archive -> PyTorch, every output within 1e-5 relative.

Token models take integer ``input_ids`` (16 tokens); ViT a 32x32 image cut into 8x8 patches. The tiny configs
(hidden size 32) run by default; the configs the issue names are marked slow.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch
import transformers

import interlayer
from interlayer.execute import predict
from interlayer.ir import dims
from package_check import assert_package_reproduces
from support import assert_equivalent, assert_varies, upstream
from torch_models import archive_maker, randomise, target_cases


TOKENS, VOCAB, IMAGE = 16, 100, 32
TINY = {"hidden_size": 32, "num_attention_heads": 4, "intermediate_size": 64}


def bert(layers: int = 4, **sizes):
    config = transformers.BertConfig(num_hidden_layers=layers, vocab_size=VOCAB, attn_implementation="eager",
                                     **sizes)
    return transformers.BertModel(config)


def distilbert(layers: int = 3, **sizes):
    config = transformers.DistilBertConfig(n_layers=layers, vocab_size=VOCAB, attn_implementation="eager", **sizes)
    return transformers.DistilBertModel(config)


def vit(layers: int = 4, **sizes):
    config = transformers.ViTConfig(num_hidden_layers=layers, image_size=IMAGE, patch_size=8,
                                    attn_implementation="eager", **sizes)
    return transformers.ViTModel(config)


def gpt2(layers: int = 4, **sizes):
    config = transformers.GPT2Config(n_layer=layers, vocab_size=VOCAB, n_positions=64, bos_token_id=0,
                                     eos_token_id=0, attn_implementation="eager", **sizes)
    return transformers.GPT2Model(config)


def wav2vec2(layers: int = 2):
    """Audio: a conv feature encoder over x[:, None], group norm, a weight-normed positional conv, a transformer."""
    config = transformers.Wav2Vec2Config(num_hidden_layers=layers, conv_dim=(16, 16), conv_stride=(5, 2),
                                         conv_kernel=(10, 3), num_conv_pos_embeddings=16,
                                         num_conv_pos_embedding_groups=4, attn_implementation="eager", **TINY)
    return transformers.Wav2Vec2Model(config)


def _audio(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((2, 400)).astype(np.float32)


def _tokens(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, VOCAB, (2, TOKENS)).astype(np.int64)


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((2, 3, IMAGE, IMAGE)).astype(np.float32)


DISTIL_TINY = {"dim": 32, "n_heads": 4, "hidden_dim": 64}
GPT2_TINY = {"n_embd": 32, "n_head": 4}
MODELS = {
    "bert-tiny": (lambda: bert(2, **TINY), _tokens),
    "distilbert-tiny": (lambda: distilbert(2, **DISTIL_TINY), _tokens),
    "vit-tiny": (lambda: vit(2, **TINY), _image),
    "bert": (bert, _tokens),
    "distilbert": (distilbert, _tokens),
    "vit": (vit, _image),
    "gpt2-tiny": (lambda: gpt2(2, **GPT2_TINY), _tokens),
    "gpt2": (gpt2, _tokens),
    "wav2vec2-tiny": (wav2vec2, _audio),
}
SLOW = {"bert", "distilbert", "vit", "gpt2"}


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    """Each model captured once and saved: (source model, archive path), made on first use."""

    def make(name: str):
        factory, inputs = MODELS[name]
        torch.manual_seed(0)
        return randomise(factory()), (torch.from_numpy(inputs(0)),)

    return archive_maker(tmp_path_factory.mktemp("transformers"), make)


@pytest.mark.parametrize("name, target_name", target_cases(MODELS, SLOW))
def test_transformer_through_the_archive(name, target_name, archives, tmp_path):
    model, path = archives(name)
    graph = interlayer.load(path)
    inputs = MODELS[name][1]
    x, other = inputs(1), inputs(2)
    expected = predict(model, [x])
    assert_varies(expected[0], predict(model, [other])[0], what=f"{name} last_hidden_state")
    target = interlayer.build(graph, target_name)
    actual = predict(target, [x])
    assert len(actual) == len(expected)
    for index, (got, want) in enumerate(zip(actual, expected)):
        assert_equivalent(got, want, what=f"{name} -> {target_name}: output {index}")
    if target_name == "torch":
        assert_package_reproduces(target, [x], tmp_path / "package")


def _assert_source_outputs(model, target, x, what: str) -> None:
    expected = predict(model, [x])
    actual = predict(target, [x])
    assert len(actual) == len(expected), f"{what}: {len(actual)} outputs, the source gives {len(expected)}"
    for index, (got, want) in enumerate(zip(actual, expected)):
        assert_equivalent(got, want, what=f"{what}: output {index}")


def test_bert_embeddings_are_three_lookups_added(archives):
    """BertEmbeddings is captured from its ATen calls: the word, token type and position lookups, each holding its
    source table, added in that order; the position ids are their buffer sliced to the length T, so the converted
    model takes another batch and another length."""
    model, path = archives("bert-tiny")
    graph = interlayer.load(path)
    name_map, tensors, producers = graph.source["name_map"], dict(graph.tensors()), graph.producers()
    lookups = [node for node in graph.nodes if node.op == "embedding"]
    names = ["embeddings.word_embeddings", "embeddings.token_type_embeddings", "embeddings.position_embeddings"]
    assert [node.name for node in lookups] == names
    for key in (f"{name}.weight" for name in names):
        assert name_map[key] == key
        np.testing.assert_array_equal(tensors[key], model.get_parameter(key).numpy(force=True))
    words, token_types, positions = lookups
    assert words.inputs == ["input_ids"]
    norm = graph.node(name_map["embeddings.LayerNorm.weight"].rpartition(".")[0])
    total = producers[norm.inputs[0]]
    partial = producers[total.inputs[0]]
    assert total.op == partial.op == "add"
    assert [producers[value].name for value in total.inputs] == [partial.name, positions.name]
    assert [producers[value].name for value in partial.inputs] == [words.name, token_types.name]
    cut = producers[positions.inputs[0]]
    assert cut.op == "slice" and cut.attrs["axes"] == [1] and dims.names(cut.attrs["ends"][0]) == {"T"}
    assert name_map["embeddings.position_ids"] == f"{cut.inputs[0]}.value"
    target = interlayer.build(graph, "torch")
    _assert_source_outputs(model, target, np.random.default_rng(5).integers(0, VOCAB, (3, 9)), "bert (3, 9)")


def test_gpt2_causal_mask_is_built_from_the_sizes(archives):
    """GPT-2 builds its causal mask in forward (arange, cumsum, comparisons, indexing): the graph builds it from
    the sizes N and T, reading neither the input nor any tensor of more than one element, once for both blocks;
    no tensor the graph holds is sized by the example (batch 2, 16 tokens), and the converted models take another
    batch and another length."""
    model, path = archives("gpt2-tiny")
    graph = interlayer.load(path)
    scores = [node for node in graph.nodes if node.op == "add" and node.name.endswith(".attn.add")]
    assert [node.name for node in scores] == ["h.0.attn.add", "h.1.attn.add"]
    (mask,) = {node.inputs[1] for node in scores}
    assert graph.shapes()[mask] == ("N", 1, "T", "T")
    before = upstream(graph, mask)
    assert {node.attrs["limit"] for node in before if node.op == "arange"} == {"N", "T"}
    assert not [node.name for node in before if "input_ids" in node.inputs]
    assert not [(node.name, key) for node in before for key, value in node.weights.items() if np.size(value) > 1]
    assert not [(name, value.shape) for name, value in graph.tensors() if {2, TOKENS} & set(value.shape)]
    for target_name in ("torch", "keras"):
        target = interlayer.build(graph, target_name)
        for batch, length in ((5, TOKENS), (3, 9)):
            tokens = np.random.default_rng(batch).integers(0, VOCAB, (batch, length))
            _assert_source_outputs(model, target, tokens, f"gpt2 -> {target_name} ({batch}, {length})")


def test_gpt2_conv1d_weights_are_transposed_into_linear_layers(archives):
    """GPT-2's Conv1D keeps its weight as (in, out): the IR linear holds (out, in), and the name map says where
    each one came from."""
    model, path = archives("gpt2-tiny")
    graph = interlayer.load(path)
    tensor = graph.source["name_map"]["h.0.attn.c_attn.weight"]
    node_name, _, weight = tensor.rpartition(".")
    node = next(node for node in graph.nodes if node.name == node_name)
    assert node.op == "linear" and weight == "weight"
    np.testing.assert_array_equal(node.weights["weight"], model.h[0].attn.c_attn.weight.detach().numpy().T)


def test_vit_class_token_follows_the_batch(archives):
    """The class token, a (1, 1, E) parameter, is one trainable constant holding it, expanded to the batch N; the
    converted model takes a batch of 1 and of 3."""
    model, path = archives("vit-tiny")
    graph = interlayer.load(path)
    (token,) = [node for node in graph.nodes if node.op == "constant" and node.attrs["trainable"]]
    assert token.attrs["shape"] == [1, 1, 32]
    assert graph.source["name_map"]["embeddings.cls_token"] == f"{token.name}.value"
    np.testing.assert_array_equal(token.weights["value"], model.embeddings.cls_token.numpy(force=True))
    (grown,) = [node for node in graph.nodes if token.name in node.inputs]
    assert grown.op == "expand" and grown.attrs["shape"] == ["N", 1, 32]
    target = interlayer.build(graph, "torch")
    for batch in (1, 3):
        image = np.random.default_rng(batch).standard_normal((batch, 3, IMAGE, IMAGE)).astype(np.float32)
        _assert_source_outputs(model, target, image, f"vit batch {batch}")


# nn.MultiheadAttention and nn.TransformerEncoder(Layer): PyTorch -> Keras and -> PyTorch --------------------

CAUSAL = torch.triu(torch.ones(6, 6, dtype=torch.bool), 1)  # True drops (nn.MultiheadAttention's convention)


class SelfAttention(torch.nn.Module):
    def __init__(self, mask=None, **options):
        super().__init__()
        self.attention = torch.nn.MultiheadAttention(16, 4, batch_first=True, **options)
        self.mask = mask

    def forward(self, x):
        return self.attention(x, x, x, need_weights=False, attn_mask=self.mask)[0]


class CrossAttention(torch.nn.Module):
    """Separate q/k/v weights (kdim, vdim), a key padding mask given as an input, and the averaged weights."""

    def __init__(self):
        super().__init__()
        self.attention = torch.nn.MultiheadAttention(16, 4, batch_first=True, kdim=8, vdim=12)

    def forward(self, x, keys, values, padding):
        return self.attention(x, keys, values, key_padding_mask=padding)


def _layer(**options):
    return torch.nn.TransformerEncoderLayer(16, 4, 32, batch_first=True, **options)


ATTENTION = {
    "mha-self": lambda: SelfAttention(),
    "mha-causal-bool-mask": lambda: SelfAttention(CAUSAL),
    "mha-float-mask-no-bias": lambda: SelfAttention(torch.randn(6, 6, generator=torch.Generator().manual_seed(3)),
                                                    bias=False),
    "mha-cross-padding-weights": CrossAttention,
    "encoder-layer-post-norm-relu": lambda: _layer(),
    "encoder-layer-pre-norm-gelu": lambda: _layer(norm_first=True, activation="gelu"),
    "encoder-two-layers": lambda: torch.nn.TransformerEncoder(_layer(), 2, enable_nested_tensor=False),
}


def _attention_inputs(name: str, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 6, 16)).astype(np.float32)
    if name != "mha-cross-padding-weights":
        return [x]
    padding = np.zeros((2, 5), dtype=bool)
    padding[:, -1] = True
    padding[1, 0] = True
    return [x, rng.standard_normal((2, 5, 8)).astype(np.float32), rng.standard_normal((2, 5, 12)).astype(np.float32),
            padding]


@pytest.mark.parametrize("target_name", ["keras", "torch"])
@pytest.mark.parametrize("name", list(ATTENTION))
def test_attention_through_the_archive(name, target_name, tmp_path):
    torch.manual_seed(0)
    model = ATTENTION[name]().eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(std=0.3, generator=torch.Generator().manual_seed(parameter.numel()))
    graph = interlayer.export(model, example_inputs=[torch.from_numpy(a) for a in _attention_inputs(name, 0)])
    graph = interlayer.load(interlayer.save(graph, tmp_path / "model.safetensors"))
    x = _attention_inputs(name, 1)
    with torch.no_grad():
        result = model(*(torch.from_numpy(a) for a in x))
    expected = [item.numpy() for item in (result if isinstance(result, tuple) else (result,))]
    assert_varies(expected[0], predict(model, _attention_inputs(name, 2))[0], what=name)
    target = interlayer.build(graph, target_name)
    actual = predict(target, x)
    assert len(actual) == len(expected)
    for index, (got, want) in enumerate(zip(actual, expected)):
        assert_equivalent(got, want, what=f"{name} -> {target_name}: output {index}")
    if target_name == "torch":
        assert_package_reproduces(target, x, tmp_path / "package")


def _time_major_attention() -> SelfAttention:
    model = SelfAttention().eval()
    model.attention.batch_first = False
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(std=0.3, generator=torch.Generator().manual_seed(parameter.numel()))
    return model


@pytest.mark.parametrize("target_name", ["keras", "torch"])
def test_time_major_attention_keeps_the_source_layout(target_name, tmp_path):
    """batch_first=False: the archive and the built model take (L, N, E) as the source does, both sizes generic;
    the graph reads axis 1 as the batch (the query the attention gets is (batch, heads, L, head size))."""
    model = _time_major_attention()
    graph = interlayer.export(model, example_inputs=[torch.randn(6, 2, 16)])
    graph = interlayer.load(interlayer.save(graph, tmp_path / "model.safetensors"))
    (spec,) = graph.inputs
    length, batch, width = spec.shape
    assert spec.perm is None and isinstance(length, str) and isinstance(batch, str) and length != batch
    assert width == 16
    (attention,) = [node for node in graph.nodes if node.op == "scaled_dot_product_attention"]
    query = graph.shapes()[attention.inputs[0]]
    assert (query[0], query[2]) == (batch, length)
    target = interlayer.build(graph, target_name)
    for sizes in ((6, 3), (9, 2)):
        x = np.random.default_rng(sizes[0]).standard_normal((*sizes, 16)).astype(np.float32)
        with torch.no_grad():
            expected = model(torch.from_numpy(x)).numpy()
        assert_equivalent(predict(target, [x])[0], expected, what=f"(L, N) = {sizes}")
    if target_name == "torch":
        assert_package_reproduces(target, [x], tmp_path / "package")


@pytest.mark.xfail(strict=True, reason="torch frontend names axes (T, N) only for inputs a recurrent layer reads "
                   "directly (capture._time_major); a time-major attention input is named by position, (N, T, E)")
def test_time_major_attention_input_is_named_time_major():
    graph = interlayer.export(_time_major_attention(), example_inputs=[torch.randn(6, 2, 16)])
    assert graph.inputs[0].shape == ("T", "N", 16)


def _bits(array) -> tuple:
    """A tensor's dtype and bytes: equal for the same values whatever the shape ((1, 17, 32) or (17, 32))."""
    array = np.asarray(array)
    return array.dtype.str, array.tobytes()


def _float_tensors(graph) -> Counter:
    """The float tensors of more than one element a graph holds (weights, tables; not the scalars and masks the
    capture makes), as a multiset of their bits."""
    return Counter(_bits(array) for _, array in graph.tensors() if array.dtype.kind == "f" and array.size > 1)


@pytest.mark.parametrize("name", ["bert-tiny", "gpt2-tiny", "vit-tiny"])
@pytest.mark.parametrize("target_name", ["keras", "torch"])
def test_transformer_round_trip_keeps_every_weight(name, target_name, archives):
    """Built in a framework and captured again: every source parameter bit for bit, and the same float tensors of
    more than one element (the constants the capture makes itself, scalars and masks, may change form); the same
    function at the capture's sizes and at another batch (and length)."""
    model, path = archives(name)
    graph = interlayer.load(path)
    x = MODELS[name][1](4)
    built = interlayer.build(graph, target_name)
    again = interlayer.export(built) if target_name == "keras" else interlayer.export(built, example_inputs=[x])
    name_map, first = graph.source["name_map"], dict(graph.tensors())
    parameters = [key for key, _ in model.named_parameters()]
    assert not [key for key in parameters if key not in name_map]
    lost = Counter(_bits(first[name_map[key]]) for key in parameters) - Counter(_bits(a) for _, a in again.tensors())
    assert not lost, f"{sum(lost.values())} source parameters are not in the graph captured again"
    assert _float_tensors(again) == _float_tensors(graph)
    if name == "vit-tiny":  # the position table fixes the image size: another batch
        other = np.random.default_rng(5).standard_normal((3, 3, IMAGE, IMAGE)).astype(np.float32)
    else:
        other = np.random.default_rng(5).integers(0, VOCAB, (3, 9)).astype(np.int64)
    for inputs in (x, other):
        expected = list(interlayer.run(graph, [inputs]).values())
        actual = list(interlayer.run(again, [inputs]).values())
        assert len(actual) == len(expected)
        for index, (got, want) in enumerate(zip(actual, expected)):
            assert_equivalent(got, want, what=f"{name} shape {inputs.shape}: output {index}")
