"""Hugging Face transformers built from configs with seeded random weights (never downloaded), converted
PyTorch -> archive -> Keras and PyTorch -> archive -> PyTorch, every output within 1e-5 relative.

Token models take integer ``input_ids`` (16 tokens); ViT a 32x32 image cut into 8x8 patches. The tiny configs
(hidden size 32) run by default; the configs the issue names are marked slow.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers

import interlayer
from interlayer.execute import predict
from package_check import assert_package_reproduces
from support import assert_equivalent, assert_varies
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


def test_bert_embeddings_are_one_lookup_and_two_constant_adds(archives):
    """BertEmbeddings (whose buffer.expand(batch_size, ...) fx cannot trace) is captured as a leaf."""
    _, path = archives("bert-tiny")
    graph = interlayer.load(path)
    lookups = [node for node in graph.nodes if node.op == "embedding"]
    assert [node.name for node in lookups] == ["embeddings"]
    assert graph.source["name_map"]["embeddings.word_embeddings.weight"] == "embeddings.weight"


def test_gpt2_causal_mask_is_one_constant_that_follows_the_batch(archives):
    """GPT-2 builds its causal mask in forward from the batch size (arange, comparisons, indexing): only the mask
    enters the IR, once, repeated over the batch; the converted model takes another batch size."""
    model, path = archives("gpt2-tiny")
    graph = interlayer.load(path)
    (mask,) = [node for node in graph.nodes if node.op == "batch_constant"]
    assert mask.attrs["shape"] == [1, TOKENS, TOKENS] and not mask.attrs["trainable"]
    assert sum(node.inputs.count(mask.name) for node in graph.nodes) == 2  # both blocks read it
    tokens = np.random.default_rng(5).integers(0, VOCAB, (5, TOKENS))
    expected = predict(model, [tokens])[0]
    assert_equivalent(predict(interlayer.build(graph, "torch"), [tokens])[0], expected, what="gpt2 batch 5")


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
    _, path = archives("vit-tiny")
    graph = interlayer.load(path)
    (token,) = [node for node in graph.nodes if node.op == "batch_constant"]
    assert token.attrs["trainable"] and token.attrs["shape"] == [1, 32]
    target = interlayer.build(graph, "torch")
    assert predict(target, [_image(3)[:1]])[0].shape[0] == 1


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


@pytest.mark.parametrize("target_name", ["keras", "torch"])
def test_time_major_attention_becomes_batch_first(target_name, tmp_path):
    """batch_first=False: the source takes (L, N, E); the archive and the built model take (N, L, E)."""
    model = SelfAttention().eval()
    model.attention.batch_first = False
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(std=0.3, generator=torch.Generator().manual_seed(parameter.numel()))
    graph = interlayer.export(model, example_inputs=[torch.randn(6, 2, 16)])
    graph = interlayer.load(interlayer.save(graph, tmp_path / "model.safetensors"))
    assert graph.inputs[0].perm == (1, 0, 2) and graph.inputs[0].shape[1:] == (6, 16)
    x = np.random.default_rng(1).standard_normal((3, 6, 16)).astype(np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(x.transpose(1, 0, 2).copy())).numpy().transpose(1, 0, 2)
    target = interlayer.build(graph, target_name)
    assert_equivalent(predict(target, [x])[0], expected)
    if target_name == "torch":
        assert_package_reproduces(target, [x], tmp_path / "package")


@pytest.mark.parametrize("name", ["bert-tiny", "gpt2-tiny", "vit-tiny"])
@pytest.mark.parametrize("target_name", ["keras", "torch"])
def test_transformer_round_trip_keeps_every_weight(name, target_name, archives):
    """Built in a framework and captured again: the same weights bit for bit, the same function."""
    _, path = archives(name)
    graph = interlayer.load(path)
    x = MODELS[name][1](4)
    built = interlayer.build(graph, target_name)
    again = interlayer.export(built) if target_name == "keras" else interlayer.export(built, example_inputs=[x])
    first, second = dict(graph.tensors()), dict(again.tensors())
    assert sorted(array.tobytes() for array in first.values()) == sorted(array.tobytes() for array in second.values())
    assert_equivalent(list(interlayer.run(again, [x]).values())[0], list(interlayer.run(graph, [x]).values())[0])
