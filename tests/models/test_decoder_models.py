"""Decoder-only language models of the Llama family and their neighbours, and encoders of the same era (Hugging
Face, built from small configs with seeded random weights) through the archive into every framework: RMSNorm's
``rsqrt``, rotary position tables, grouped-query attention's repeated key/value heads (``x[:, :, None]`` expanded
and merged), the boolean causal mask made for the batch (built in the graph from the batch and length sizes), and
subclasses of nn layers with their own forward."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers

import interlayer
from interlayer.execute import predict
from interlayer.ir.check import infer_dtypes
from package_check import assert_package_reproduces
from support import assert_equivalent, assert_varies, upstream
from torch_models import archive_maker, randomise

VOCAB, TOKENS = 100, 7
SIZES = {"vocab_size": VOCAB, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
         "intermediate_size": 64}
MODELS = {
    "llama": lambda: transformers.LlamaModel(transformers.LlamaConfig(num_key_value_heads=2, **SIZES)),
    "qwen2": lambda: transformers.Qwen2Model(transformers.Qwen2Config(num_key_value_heads=2, **SIZES)),
    "phi": lambda: transformers.PhiModel(transformers.PhiConfig(**SIZES)),
    "gpt-neox": lambda: transformers.GPTNeoXModel(transformers.GPTNeoXConfig(**SIZES)),
    "t5-encoder": lambda: transformers.T5EncoderModel(transformers.T5Config(
        vocab_size=VOCAB, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4)),
    # subclasses of nn layers with forwards of their own, followed into: Gemma's scaled word embedding,
    # Falcon's Linear, BART's scaled and learned positional embeddings
    "gemma": lambda: transformers.GemmaModel(transformers.GemmaConfig(num_key_value_heads=2, head_dim=8, **SIZES)),
    "falcon": lambda: transformers.FalconModel(transformers.FalconConfig(
        vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4)),
    "bart-encoder": lambda: transformers.BartModel(transformers.BartConfig(
        vocab_size=VOCAB, d_model=32, encoder_layers=2, decoder_layers=1, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64)).encoder,
}


def _tokens(seed: int, batch: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, VOCAB, (batch, TOKENS)).astype(np.int64)


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    def make(name: str):
        torch.manual_seed(0)
        return randomise(MODELS[name]()), (torch.from_numpy(_tokens(0, 2)),)

    return archive_maker(tmp_path_factory.mktemp("decoders"), make)


@pytest.mark.parametrize("target_name", ["torch", "keras", "onnx"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_decoder_through_the_archive(name, target_name, archives, tmp_path):
    model, path = archives(name)
    target = interlayer.build(interlayer.load(path), target_name)
    x = _tokens(1, 3)  # another batch size than the capture's
    expected = predict(model, [x])[0]
    assert_varies(expected, predict(model, [_tokens(2, 3)])[0], what=f"{name} last_hidden_state")
    assert_equivalent(predict(target, [x])[0], expected, what=f"{name} -> {target_name}")
    if target_name == "torch":
        assert_package_reproduces(target, [x], tmp_path / "package")


def test_llama_graph_holds_no_example_sized_tensor(archives):
    """No tensor the graph holds depends on the example it was captured on: the causal mask made for the batch is
    built in the graph from the sizes N and T (arange, cumsum, comparisons; no input, no tensor of more than one
    element), one boolean (N, 1, T, T) both attentions read; RMSNorm's rsqrt is 1 / sqrt, once per norm."""
    model, path = archives("llama")
    graph = interlayer.load(path)
    attentions = [node for node in graph.nodes if node.op == "scaled_dot_product_attention"]
    assert len(attentions) == 2
    (mask,) = {node.inputs[3] for node in attentions}
    assert graph.shapes()[mask] == ("N", 1, "T", "T") and infer_dtypes(graph)[mask] == "bool"
    before = upstream(graph, mask)
    assert {node.attrs["limit"] for node in before if node.op == "arange"} == {"N", "T"}
    assert not [node.name for node in before if "input_ids" in node.inputs]
    assert not [(node.name, key) for node in before for key, value in node.weights.items() if np.size(value) > 1]
    other = interlayer.export(model, example_inputs=(torch.from_numpy(_tokens(3, 3)[:, :4]),))
    held, again = dict(graph.tensors()), dict(other.tensors())
    assert sorted(again) == sorted(held), "another example gives other tensors"
    assert not [name for name in held if not np.array_equal(again[name], held[name])]
    producers = graph.producers()
    roots = [node.name for node in graph.nodes if node.op == "div" and node.attrs["constant_first"]
             and float(node.weights["other"]) == 1.0 and producers[node.inputs[0]].op == "sqrt"]
    assert roots == [f"layers.{i}.{norm}_rsqrt" for i in range(2) for norm in ("input_layernorm",
                     "post_attention_layernorm")] + ["norm_rsqrt"]  # two norms per layer and the final one
    tokens = _tokens(4, 3)[:, :5]
    assert_equivalent(list(interlayer.run(graph, [tokens]).values())[0], predict(model, [tokens])[0],
                      what="llama graph at (3, 5)")
