"""The ONNX frontend as a whole: files, the batch axis, names and provenance, version-keyed converters, and errors that
name every problem at once."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper

import interlayer
from interlayer.errors import SourceError, UnsupportedLayerError
from interlayer.frontends.onnx import capture
from interlayer.frontends.onnx.capture import find_converter
from interlayer.frontends.onnx.files import load_model
from interlayer.registry import converters
from onnx_frontend_support import check, model, ops, single, tensor, weight

SHAPE = ("N", 3, 6, 6)


def small_cnn():
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="/features/conv/Conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["p"], name="pool"),
             helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], name="/fc/Gemm", transB=1)]
    initializers = [tensor("w", weight((4, 3, 3, 3), 1)), tensor("b", weight((4,), 2)),
                    tensor("fc.weight", weight((2, 4), 3)), tensor("fc.bias", weight((2,), 4))]
    return model(nodes, [("x", SHAPE)], [("logits", None)], initializers)


def test_export_reads_an_onnx_file(tmp_path):
    path = tmp_path / "cnn.onnx"
    onnx.save(small_cnn(), path)
    graph = interlayer.export(str(path))
    assert ops(graph) == ["conv", "relu", "global_avg_pool", "flatten", "linear"]
    assert graph.source["framework"] == "onnx"


def test_export_reads_a_model_proto():
    assert ops(interlayer.export(small_cnn())) == ["conv", "relu", "global_avg_pool", "flatten", "linear"]


def test_node_names_follow_onnx_sanitised():
    graph = check(small_cnn())
    assert [n.name for n in graph.nodes] == ["features/conv/Conv", "Relu_1", "pool", "flatten", "fc/Gemm"]


def test_repeated_node_names_are_made_unique():
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="act"), helper.make_node("Tanh", ["a"], ["y"], name="act")]
    assert [n.name for n in capture(model(nodes, [("x", SHAPE)], [("y", None)])).nodes] == ["act", "act_1"]


def test_weights_map_to_their_initializers_and_outputs_keep_their_names():
    graph = capture(small_cnn())
    assert graph.source["name_map"] == {"w": "features/conv/Conv.weight", "b": "features/conv/Conv.bias",
                                        "fc.weight": "fc/Gemm.weight", "fc.bias": "fc/Gemm.bias"}
    assert graph.source["output_names"] == ["logits"]


def test_initializers_listed_as_graph_inputs_are_weights():
    """Old exporters list every initializer among the graph inputs too."""
    proto = small_cnn()
    proto.graph.input.extend(helper.make_tensor_value_info(i.name, onnx.TensorProto.FLOAT, list(i.dims))
                             for i in proto.graph.initializer)
    graph = check(proto)
    assert [spec.name for spec in graph.inputs] == ["x"] and len(graph.nodes) == 5


def test_the_batch_is_symbolic_even_when_the_file_fixes_it():
    proto = single("Relu", (1, 3, 4))
    assert capture(proto).inputs[0].shape == ("N", 3, 4)


def test_the_batch_stays_symbolic_through_the_graph():
    graph = check(small_cnn(), batches=(1, 3))
    assert graph.outputs[0].shape == ("N", 2)


def test_nodes_no_output_depends_on_are_skipped():
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="relu"),
             helper.make_node("Exp", ["x"], ["unused"], name="exp")]
    proto = model(nodes, [("x", SHAPE)], [("y", None)])
    assert ops(capture(proto)) == ["relu"]


def test_a_graph_input_returned_as_is_gets_an_identity():
    proto = model([], [("x", SHAPE)], [("x", SHAPE)])
    graph = check(proto)
    assert ops(graph) == ["identity"]


def test_several_unsupported_nodes_are_named_in_one_error():
    nodes = [helper.make_node("Round", ["x"], ["a"], name="round"),
             helper.make_node("ThresholdedRelu", ["a"], ["b"], name="thresholded"),
             helper.make_node("Relu", ["b"], ["c"], name="relu"),
             helper.make_node("Tan", ["c"], ["y"], name="")]
    proto = model(nodes, [("x", SHAPE)], [("y", None)])
    with pytest.raises(UnsupportedLayerError) as caught:
        capture(proto)
    assert [where for where, _ in caught.value.problems] == ["node 'round' (Round)",
                                                             "node 'thresholded' (ThresholdedRelu)",
                                                             "node 'Tan_3' (Tan)"]
    assert "no converter for ONNX op 'Round'" in str(caught.value)
    assert '`@interlayer.register("onnx", "frontend", ("ThresholdedRelu", 10))`' in str(caught.value)


def test_an_unsupported_attribute_value_is_named_with_its_node():
    nodes = [helper.make_node("Pad", ["x", "pads"], ["p"], name="pad", mode="symmetric"),
             helper.make_node("Round", ["p"], ["y"], name="round")]
    proto = model(nodes, [("x", SHAPE)], [("y", None)], [tensor("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1]))])
    with pytest.raises(UnsupportedLayerError) as caught:
        capture(proto)
    assert [where for where, _ in caught.value.problems] == ["node 'pad' (Pad)", "node 'round' (Round)"]
    assert "mode must be one of ['constant', 'reflect', 'edge', 'wrap']. Received: mode='symmetric'" in \
        caught.value.problems[0][1]


def test_a_missing_file_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        interlayer.export(str(tmp_path / "missing.onnx"))


def test_a_malformed_file_is_a_source_error(tmp_path):
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"\x08\x07 this is not a protobuf model \xff\xfe")
    with pytest.raises(SourceError, match="not an ONNX model file"):
        load_model(path)


def test_a_file_failing_the_checker_is_a_source_error(tmp_path):
    proto = small_cnn()
    proto.graph.node[1].input[0] = "nowhere"
    path = tmp_path / "broken.onnx"
    onnx.save(proto, path)
    with pytest.raises(SourceError, match="fails onnx.checker"):
        load_model(path)


def test_external_data_is_loaded(tmp_path):
    path = tmp_path / "external.onnx"
    onnx.save(small_cnn(), path, save_as_external_data=True, all_tensors_to_one_file=True, location="weights.bin",
              size_threshold=0)
    graph = interlayer.export(str(path))
    np.testing.assert_array_equal(graph.nodes[0].weights["weight"], weight((4, 3, 3, 3), 1))


def test_missing_external_data_is_a_source_error(tmp_path):
    path = tmp_path / "external.onnx"
    onnx.save(small_cnn(), path, save_as_external_data=True, location="weights.bin", size_threshold=0)
    (tmp_path / "weights.bin").unlink()
    with pytest.raises(SourceError, match="external data cannot be read"):
        load_model(path)


def test_unknown_options_are_refused():
    with pytest.raises(SourceError, match="unknown option"):
        capture(small_cnn(), layout="nhwc")


def test_not_a_model_is_refused():
    with pytest.raises(SourceError, match="Expected an onnx.ModelProto"):
        capture(small_cnn().graph)


def test_the_converter_of_the_greatest_since_version_is_chosen():
    table = converters("onnx", "frontend")
    old, versions = find_converter(table, "", "Softmax", 12)
    new, _ = find_converter(table, "", "Softmax", 21)
    assert versions == [1, 13]
    assert old is table["Softmax", 1] and new is table["Softmax", 13]


def test_an_opset_older_than_every_converter_is_refused_clearly():
    """Pad-1 named its pads ``paddings``; the converters read Pad from opset 2."""
    proto = single("Pad", SHAPE, ("N", 3, 8, 8), opset=1, paddings=[0, 0, 1, 1, 0, 0, 1, 1])
    with pytest.raises(UnsupportedLayerError, match=r"node 'pad' \(Pad\): no converter for this opset. Expected "
                                                    r"opset >= 2 for Pad, whose converters read since-versions "
                                                    r"\[2, 11\]. Received: opset=1"):
        capture(proto)


def test_a_registered_converter_for_a_domain_is_used():
    """A custom domain's op: ``(domain, op_type, since_version)``."""
    calls = []
    key = ("test.interlayer", "Twice", 1)

    @interlayer.register("onnx", "frontend", key)
    def twice(ctx, node):
        calls.append(node.name)
        return ctx.add("mul", [ctx.value(0)], {"constant": True}, {"other": np.array(2.0, np.float32)})

    try:
        _check_custom_domain(calls)
    finally:
        converters("onnx", "frontend").pop(key)


def _check_custom_domain(calls):

    node = helper.make_node("Twice", ["x"], ["y"], name="twice", domain="test.interlayer")
    graph = helper.make_graph([node], "custom", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, SHAPE)],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, SHAPE)])
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("test.interlayer", 1)]
    proto = helper.make_model(graph, opset_imports=opsets, ir_version=10)
    result = capture(proto)
    assert calls == ["twice"] and ops(result) == ["mul"]
    x = np.ones((2, *SHAPE[1:]), np.float32)
    np.testing.assert_array_equal(list(interlayer.run(result, [x]).values())[0], 2 * x)


def test_a_model_whose_shapes_do_not_fit_its_ops_is_a_source_error():
    """onnx.checker passes it; strict shape inference finds the (5, 3) weight of a 6-feature MatMul."""
    proto = model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [("x", ("N", 6))], [("y", None)],
                  [tensor("w", weight((6, 3), 1))])
    proto.graph.initializer[0].CopyFrom(tensor("w", weight((5, 3), 1)))
    with pytest.raises(SourceError, match="fails ONNX shape inference"):
        capture(proto)


def test_example_inputs_fix_the_sizes_the_file_leaves_symbolic():
    nodes = [helper.make_node("Shape", ["x"], ["s"], name="shape"),
             helper.make_node("Reshape", ["x", "s"], ["r"], name="reshape"),
             helper.make_node("Relu", ["r"], ["y"], name="relu")]
    proto = model(nodes, [("x", ("N", 4, "T"))], [("y", ("N", 4, "T"))])
    with pytest.raises(UnsupportedLayerError, match="dynamic size"):
        capture(proto)
    graph = capture(proto, example_inputs=[(1, 4, 5)])
    assert graph.inputs[0].shape == ("N", 4, 5)
    x = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(np.float32)
    np.testing.assert_array_equal(list(interlayer.run(graph, [x]).values())[0], np.maximum(x, 0))


def test_a_sparse_initializer_is_a_dense_weight():
    dense = weight((2, 6), 1)
    dense[dense < 0.2] = 0
    rows, columns = np.nonzero(dense)
    sparse = helper.make_sparse_tensor(tensor("w", dense[rows, columns]),
                                       tensor("w_indices", np.stack([rows, columns], axis=1).astype(np.int64)),
                                       [2, 6])
    node = helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transB=1)
    graph = helper.make_graph([node], "sparse", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["N", 6])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["N", 2])],
                              sparse_initializer=[sparse])
    result = capture(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10))
    np.testing.assert_array_equal(result.nodes[0].weights["weight"], dense)


def test_gather_elements_of_constants_is_folded_with_numpy():
    """torch.onnx's BertEmbeddings: gather(token_type_ids (1, 16), 1, position ids (1, 5)), added to the input."""
    table = np.arange(16, dtype=np.float32).reshape(1, 16) * 0.5
    positions = np.array([[3, 1, 4, 1, -2]], np.int64)
    nodes = [helper.make_node("GatherElements", ["table", "positions"], ["picked"], name="gather", axis=1),
             helper.make_node("Add", ["x", "picked"], ["y"], name="add")]
    proto = model(nodes, [("x", ("N", 5))], [("y", None)], [tensor("table", table), tensor("positions", positions)])
    graph = check(proto)
    (node,) = graph.nodes
    np.testing.assert_array_equal(node.weights["other"].ravel(), [1.5, 0.5, 2.0, 0.5, 7.0])


def test_a_constant_node_that_cannot_be_evaluated_is_named():
    nodes = [helper.make_node("Scale", ["table"], ["scaled"], name="custom", domain="com.example"),
             helper.make_node("Add", ["x", "scaled"], ["y"], name="add")]
    graph = helper.make_graph(nodes, "test", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2, 3])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2, 3])],
                              [tensor("table", np.ones((1, 3), np.float32))])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    with pytest.raises(UnsupportedLayerError, match=r"node 'custom' \(Scale\): its inputs are all "
                                                    r"constants, and evaluating it with onnx.reference failed"):
        capture(proto)


def test_size_ranges_and_guards_written_by_the_onnx_backend_are_read_back():
    graph = capture(single("Relu", ("N", 4, "T")))
    graph.sizes, graph.guards = {"T": {"min": 2, "max": 16}}, ["T % 2 == 0"]
    back = capture(interlayer.build(graph, "onnx"))
    assert (back.sizes, back.guards) == ({"T": {"min": 2, "max": 16}}, ["T % 2 == 0"])


def test_size_metadata_that_is_not_json_is_refused():
    proto = single("Relu", ("N", 4))
    helper.set_model_props(proto, {"interlayer.sizes": "{not json"})
    with pytest.raises(SourceError, match="the metadata 'interlayer.sizes' is not JSON"):
        capture(proto)
