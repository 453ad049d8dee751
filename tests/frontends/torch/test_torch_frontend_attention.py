"""The functional pieces of transformers: captured graph == torch (on another batch size), and the ops chosen."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import interlayer
from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.torch import capture
from support import assert_equivalent
from torch_frontend_support import Fn, Fn2, check_capture

SEQ = (2, 4, 6, 8)  # (batch, heads, tokens, head size)
CAUSAL = torch.tril(torch.ones(6, 6, dtype=torch.bool))
BIAS = torch.randn(6, 6, generator=torch.Generator().manual_seed(0))


class Token(nn.Module):
    """A class token expanded to the batch and put in front of the sequence (ViT)."""

    def __init__(self):
        super().__init__()
        self.token = nn.Parameter(torch.randn(1, 1, 8))

    def forward(self, x):
        return torch.cat([self.token.expand(x.shape[0], -1, -1), x], dim=1)


class Positions(nn.Module):
    """A position-id buffer expanded with a proxy batch size (fx alone cannot trace this)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("ids", torch.arange(6).float()[None, :, None])

    def forward(self, x):
        return x + self.ids.expand(x.size(0), -1, 8)


def _heads(x):
    """(N, T, 32) -> (N, 4, T, 8), the batch kept symbolic."""
    return x.view(x.size(0), -1, 4, 8).transpose(1, 2)


ONE_INPUT = [
    pytest.param(Fn(lambda m, x: F.scaled_dot_product_attention(x, x * 0.5, x + 1.0)), SEQ, id="sdpa"),
    pytest.param(Fn(lambda m, x: F.scaled_dot_product_attention(x, x, x, is_causal=True, scale=0.2)), SEQ,
                 id="sdpa-causal-scale"),
    pytest.param(Fn(lambda m, x: F.scaled_dot_product_attention(x, x, x, attn_mask=CAUSAL)), SEQ,
                 id="sdpa-constant-bool-mask"),
    pytest.param(Fn(lambda m, x: F.scaled_dot_product_attention(x, x, x, attn_mask=BIAS)), SEQ,
                 id="sdpa-constant-float-mask"),
    pytest.param(Fn(lambda m, x: x.masked_fill(~CAUSAL, -3.0)), (2, 3, 6, 6), id="masked_fill-constant-mask"),
    pytest.param(Fn(lambda m, x: torch.where(CAUSAL, -2.0, x)), (2, 6, 6), id="torch.where-constant-mask"),
    pytest.param(Fn(lambda m, x: x[:, :1].expand(-1, 5, 4)), (2, 3, 4), id="Tensor.expand"),
    pytest.param(Fn(lambda m, x: x[:, 0]), (2, 5, 4), id="getitem-first-token"),
    pytest.param(Fn(lambda m, x: x[..., 1:3]), (2, 5, 4), id="getitem-ellipsis-slice"),
    pytest.param(Fn(lambda m, x: x[:, -1, 2:]), (2, 5, 4), id="getitem-last-token-tail"),
    pytest.param(Fn(lambda m, x: torch.softmax(x, -1, dtype=torch.float32).to(x.dtype)), (2, 5, 4),
                 id="softmax-dtype-kept"),
    pytest.param(Token(), (2, 4, 8), id="class-token"),
    pytest.param(Positions(), (2, 6, 8), id="position-buffer-expand"),
    pytest.param(Fn(lambda m, x: F.scaled_dot_product_attention(*(_heads(x),) * 3).transpose(1, 2)
                    .reshape(x.size(0), -1, 32)), (2, 6, 32), id="head-split-and-merge"),
    pytest.param(Fn(lambda m, x: x[:, :, None]), (2, 5, 4), id="getitem-new-axis"),
    pytest.param(Fn(lambda m, x: x[..., None] * 2.0), (2, 5, 4), id="getitem-ellipsis-new-axis"),
    pytest.param(Fn(lambda m, x: x[:, None, 1:3, None]), (2, 5, 4), id="getitem-new-axes-and-slice"),
    pytest.param(Fn(lambda m, x: x[:, 2, None]), (2, 5, 4), id="getitem-integer-and-new-axis"),
    pytest.param(Fn(lambda m, x: x[..., [-2], :]), (2, 3, 5, 4), id="getitem-one-element-list"),
    pytest.param(Fn(lambda m, x: x[:, [1, 2, 3]]), (2, 5, 4), id="getitem-consecutive-list"),
    pytest.param(Fn(lambda m, x: _repeat_kv(x, 2)), SEQ, id="repeat_kv"),
    pytest.param(Fn(lambda m, x: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)), (2, 5, 8),
                 id="rms-norm-rsqrt"),
    pytest.param(Fn(lambda m, x: F.scaled_dot_product_attention(x, x, x, attn_mask=_batch_causal(x))), SEQ,
                 id="sdpa-bool-mask-made-for-the-batch"),
    pytest.param(Fn(lambda m, x: x.masked_fill(~_batch_causal(x), -3.0)), (2, 4, 6, 6),
                 id="masked_fill-mask-made-for-the-batch"),
]


def _repeat_kv(x, times: int):
    """Grouped-query attention's key/value heads repeated (Llama's repeat_kv): a new axis, expanded, merged."""
    batch, heads, tokens, size = x.shape
    return x[:, :, None, :, :].expand(batch, heads, times, tokens, size).reshape(batch, heads * times, tokens, size)


def _batch_causal(x):
    """A boolean causal mask expanded to the batch of ``x`` (Hugging Face's sdpa masks): one row per example."""
    return CAUSAL[None, None].expand(x.size(0), 1, -1, -1)


@pytest.mark.parametrize("model, shape", ONE_INPUT)
def test_capture_matches_torch(model, shape):
    check_capture(model, shape)


def test_sdpa_with_a_computed_mask():
    model = Fn2(lambda m, x, mask: F.scaled_dot_product_attention(x, x, x, attn_mask=mask))
    graph = check_capture(model, [SEQ, (2, 1, 6, 6)])
    assert [node.op for node in graph.nodes] == ["scaled_dot_product_attention"]


def test_masked_fill_with_a_mask_input():
    model = Fn2(lambda m, x, mask: x.masked_fill(mask, -4.0))
    graph = capture(model, example_inputs=[torch.randn(2, 3, 6), torch.rand(2, 1, 6) > 0.5])
    x, mask = torch.randn(5, 3, 6), torch.rand(5, 1, 6) > 0.5
    expected = model(x, mask).numpy()
    actual = list(interlayer.run(graph, [x.numpy(), mask.numpy()]).values())[0]
    assert_equivalent(actual, expected)
    assert graph.inputs[1].dtype == "bool"


def test_class_token_is_one_trainable_constant_expanded_to_the_batch():
    graph = check_capture(Token(), (2, 4, 8))
    assert [node.op for node in graph.nodes] == ["constant", "expand", "concat"]
    token, expanded = graph.nodes[:2]
    assert token.attrs["trainable"] and graph.source["name_map"]["token"] == f"{token.name}.value"
    assert expanded.attrs["shape"] == ["N", 1, 8]


# what the concrete tracer refused because it touched the batch axis, or a dtype: converted, equal to torch at two
# sets of sizes
BATCH_AXIS = [
    pytest.param(lambda m, x: x.to(torch.float64), (2, 4), ["cast"], id="cast-to-float64"),
    pytest.param(lambda m, x: x[0], (2, 4, 3), ["slice", "reshape"], id="index-the-batch"),
    pytest.param(lambda m, x: x[:, [0, 2]], (2, 4, 3), ["constant", "gather"], id="list-of-indexes"),
    pytest.param(lambda m, x: x[None], (2, 4, 3), ["reshape"], id="new-axis-before-the-batch"),
]


@pytest.mark.parametrize("fn, shape, ops", BATCH_AXIS)
def test_indexing_and_casts_the_concrete_tracer_refused(fn, shape, ops):
    graph = check_capture(Fn(fn), shape)
    assert [node.op for node in graph.nodes] == ops


def test_a_cast_keeps_its_dtype():
    graph = check_capture(Fn(lambda m, x: x.to(torch.float64) * 2), (2, 4))
    assert graph.outputs[0].dtype == "float64"


def test_a_mask_made_for_the_batch_is_a_constant_expanded_to_it():
    graph = check_capture(Fn(lambda m, x: F.scaled_dot_product_attention(x, x, x, attn_mask=_batch_causal(x))), SEQ)
    assert [node.op for node in graph.nodes] == ["constant", "expand", "scaled_dot_product_attention"]
    mask, expanded = graph.nodes[:2]
    assert mask.attrs["dtype"] == "bool" and mask.weights["value"].shape == (1, 1, 6, 6)
    assert expanded.attrs["shape"] == ["N", 1, 6, 6]


def test_a_mask_made_for_the_batch_with_rows_that_differ():
    def forward(m, x):
        mask = (torch.arange(x.size(0))[:, None, None, None] > 0).expand(-1, 1, 6, 6)  # row 0 drops everything
        return F.scaled_dot_product_attention(x, x, x, attn_mask=mask | CAUSAL)

    graph = check_capture(Fn(forward), SEQ)
    assert graph.node("arange").attrs["limit"] == "N"


def test_gpt2_conv1d_is_a_linear_with_the_weight_transposed():
    from transformers.pytorch_utils import Conv1D

    model = Fn(lambda m, x: m.layers[0](x), Conv1D(12, 8))
    graph = check_capture(model, (2, 5, 8))
    assert [node.op for node in graph.nodes] == ["reshape", "linear", "reshape"]  # (N*T, 8) rows, as Conv1D views x
    node = graph.nodes[1]
    assert node.weights["weight"].shape == (12, 8)
    assert np.array_equal(node.weights["weight"], model.layers[0].weight.detach().numpy().T)
    assert graph.source["name_map"] == {"layers.0.weight": f"{node.name}.weight", "layers.0.bias": f"{node.name}.bias"}


def test_attention_dropout_at_inference_is_refused():
    with pytest.raises(UnsupportedLayerError, match=r"node 'scaled_dot_product_attention' "
                                                    r"\(aten.scaled_dot_product_attention\): attention dropout"):
        capture(Fn(lambda m, x: F.scaled_dot_product_attention(x, x, x, dropout_p=0.1)), SEQ)
