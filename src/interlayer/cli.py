"""The command line. Every command is a thin layer over the Python API; the API's errors are printed in the
command line's words (``cli_words``: ``example_inputs=`` becomes ``--input-shape``)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .cli_words import cli_words
from .errors import ConversionError, InterlayerError

DEBUG_HELP = "show the traceback of an internal error (accepted before or after the command)"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        return args.run(args)
    except ConversionError as exc:
        print(f"interlayer: {cli_words(str(exc))}", file=sys.stderr)
        return 1
    except InterlayerError as exc:
        print(f"interlayer: error: {cli_words(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # anything unforeseen: one line, the traceback only on request
        if args.debug:
            raise
        print(f"interlayer: internal error: {type(exc).__name__}: {exc}\n(run again with --debug for the traceback)",
              file=sys.stderr)
        return 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="interlayer", description="Move trained networks between PyTorch, Keras, "
                                     "ONNX and a framework-neutral safetensors archive.")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    common = argparse.ArgumentParser(add_help=False)  # what every command also accepts after its name
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     help="one of the commands below; interlayer COMMAND --help explains each")
    for name, text, options, run in COMMANDS:
        command = commands.add_parser(name, help=text, description=text, parents=[common])
        options(command)
        command.set_defaults(run=run)
    return parser


def _convert_options(convert: argparse.ArgumentParser) -> None:
    convert.add_argument("sources", nargs="*", metavar="source",
                         help="a .keras/.h5 or .onnx file, an interlayer .safetensors archive, a PyTorch factory "
                              "package.module:function, or a Hugging Face model folder (config.json and safetensors "
                              "weights); several of them, folders or globs for a batch")
    convert.add_argument("--to", required=True, choices=("archive", "keras", "torch", "onnx"),
                         help="what to write: an interlayer .safetensors archive, a .keras file, a PyTorch package "
                              "folder or .pt2 program, or an .onnx file")
    convert.add_argument("-o", "--output", required=True, type=Path,
                         help="a .safetensors archive, a .keras or .onnx file, or for --to torch a package folder (a "
                              "name without a suffix: model.py + model.safetensors) or a torch.export program ending "
                              "in .pt2; a suffix of another format is refused. For a batch, the output folder "
                              "(OUTDIR/<name>.<ext>, report.json, report.md)")
    _source_options(convert)
    convert.add_argument("--force", action="store_true", help="replace an existing output")
    convert.add_argument("--no-verify", action="store_true", help="skip the check against the reference interpreter")
    convert.add_argument("--keep-input-layout", action="store_true",
                         help="Keras target: keep the source's channels-first input instead of NHWC")
    batch = convert.add_argument_group("batches", "a batch is several sources, a folder, a glob, or --manifest")
    batch.add_argument("--manifest", type=Path, help='JSON lines: {"path": ..., "input_shape": [1, 3, 224, 224] | '
                       '"input_shapes": [[...], ...], "weights": ..., "to": ..., "name": ...}')
    batch.add_argument("--jobs", type=int, default=1, help="worker processes (default 1: in this process)")
    batch.add_argument("--executor", choices=("local", "dask"), default="local",
                       help="local worker processes (default), or a dask.distributed cluster")
    batch.add_argument("--scheduler", help="address of a dask scheduler (default: a local cluster of --jobs workers)")
    batch.add_argument("--resume", action="store_true",
                       help="skip models whose output was made from the same source checksum; reconvert changed ones "
                            "(a batch whose outputs exist is refused without --resume or --force)")
    batch.add_argument("--fail-fast", action="store_true", help="stop at the first model that fails")


def _inspect_options(inspect: argparse.ArgumentParser) -> None:
    inspect.add_argument("source", help="the model: a .keras/.h5 or .onnx file, an interlayer .safetensors archive, "
                                        "a PyTorch factory package.module:function or a Hugging Face model folder")
    _source_options(inspect)
    inspect.add_argument("--graph", type=Path, metavar="PATH",
                         help="also draw the layer graph: a name ending in .svg for a picture, in .html for a page "
                              "to explore in a browser (pan and zoom, blocks to fold, search, details on click; one "
                              "file, no server)")
    inspect.add_argument("--force", action="store_true", help="replace an existing --graph file")


def _diff_options(diff: argparse.ArgumentParser) -> None:
    from .diff import ATTR_RTOL

    diff.add_argument("a", help="the first model: any source convert accepts")
    diff.add_argument("b", help="the second model")
    diff.add_argument("--atol", type=float, default=0.0,
                      help="tensors within this absolute difference count as equal (default 0: bit for bit)")
    diff.add_argument("--attr-rtol", type=float, default=ATTR_RTOL, metavar="RTOL",
                      help=f"float attributes (a momentum, an epsilon) within this relative difference count as equal "
                           f"and are listed apart (default {ATTR_RTOL:g}: an attribute rounded through float32, "
                           f"0.01 read back as 0.00999999, is no change)")
    diff.add_argument("--json", type=Path, help="write the report as JSON to this file")
    _source_options(diff)


def _verify_options(verify: argparse.ArgumentParser) -> None:
    verify.add_argument("source", help="the reference model: any source convert accepts")
    verify.add_argument("target", help="the model to check: an archive, a .keras or .onnx file, a PyTorch package "
                                       "folder or .pt2 program, or a factory")
    verify.add_argument("--input", type=Path, help=".npy (one input) or .npz (by input name), as the source "
                                                   "takes them; seeded random inputs when absent")
    verify.add_argument("--json", type=Path, help="write the report as JSON to this file")
    verify.add_argument("--rtol", type=float, default=1e-5,
                        help="a value passes when its largest difference, relative to the largest magnitude of the "
                             "reference value, is within this (default 1e-5; more where float32 rounding of the "
                             "graph itself is larger)")
    verify.add_argument("--atol", type=float, default=1e-7,
                        help="a value also passes when its largest absolute difference is within this, for values "
                             "near zero (default 1e-7)")
    _source_options(verify, specs=False)  # its --input is data


def _transfer_options(transfer: argparse.ArgumentParser) -> None:
    transfer.add_argument("source", help="the model whose weights move: any source convert accepts; with "
                                         "--weights, a factory or Keras file whose weights file is loaded first")
    transfer.add_argument("--into", required=True, dest="destination",
                          help="the destination model: a .keras/.h5 file or a PyTorch factory package.module:function")
    transfer.add_argument("-o", "--output", required=True, type=Path,
                          help="a .keras file for a Keras destination; a .safetensors or .pt state dict for PyTorch")
    transfer.add_argument("--hint", action="append", default=[], metavar="SRC=DST",
                          help="pair a source layer (or parameter) with a destination one; repeat as needed")
    transfer.add_argument("--force", action="store_true", help="replace an existing output")
    transfer.add_argument("--no-verify", action="store_true", help="skip running both models after the transfer")
    _source_options(transfer)


def _run_options(run: argparse.ArgumentParser) -> None:
    run.add_argument("archive", type=Path, help="an interlayer .safetensors archive (convert a Keras, ONNX or "
                                                "PyTorch model to one first)")
    run.add_argument("--input", required=True, type=Path, help=".npy (one input) or .npz (by input name)")
    run.add_argument("-o", "--output", type=Path, help="write the outputs to this .npz")
    run.add_argument("--force", action="store_true", help="replace an existing -o file")


def _demo_options(demo: argparse.ArgumentParser) -> None:
    demo.add_argument("--out", type=Path, default=Path("out"), help="the folder for the demo's files (default: out)")
    demo.add_argument("--force", action="store_true", help="replace the demo's files in --out if they exist")


def _source_options(parser: argparse.ArgumentParser, specs: bool = True) -> None:
    parser.add_argument("--weights", type=Path, help="weights for a factory: .safetensors, or a .pt state dict "
                                                     "(read with weights_only=True)")
    parser.add_argument("--input-shape", action="append", type=_shape, dest="input_shapes", metavar="SHAPE",
                        help="input shape of a PyTorch model, e.g. 1,3,224,224 (once per input; the batch, "
                             "height and width stay generic where the model allows)")
    if specs:
        parser.add_argument("--input", action="append", dest="input_specs", metavar="NAME:DTYPE[AXES]",
                            help="an input of a PyTorch model as a spec, e.g. input_ids:int64[batch,seq] or "
                                 "x:float32[N,3,H=224,W=224]: each axis a fixed size, a name kept generic (name=size "
                                 "for the example's size) or ? (generic if the model allows); once per input")


def _shape(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.replace("x", ",").split(",") if part)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a shape: {text!r}; expected e.g. 1,3,224,224") from None


def _example(args) -> object:
    shapes, specs = args.input_shapes, getattr(args, "input_specs", None)
    if shapes and specs:
        raise InterlayerError("the inputs are given twice. Expected --input-shape or --input, not both. Received: "
                              "both.")
    if specs:
        return specs
    return None if not shapes else (shapes[0] if len(shapes) == 1 else shapes)


def _convert(args) -> int:
    from .conversion import convert_file

    from .batch import is_batch

    options = {"keep_input_layout": True} if args.keep_input_layout and args.to == "keras" else {}
    if is_batch(args.sources, args.manifest):
        return _convert_batch(args, options)
    batch_only = [flag for flag, used in (("--jobs", args.jobs != 1), ("--executor", args.executor != "local"),
                                          ("--scheduler", args.scheduler), ("--resume", args.resume),
                                          ("--fail-fast", args.fail_fast)) if used]
    if not args.sources:
        raise InterlayerError("convert: no source given. Expected a model, or for a batch several models, a folder, a "
                              "glob or --manifest FILE. Received: no source.")
    if batch_only:
        raise InterlayerError(f"convert: {', '.join(batch_only)} applies to batches only. Expected several sources, a "
                              f"folder, a glob or --manifest with it. Received: one source, {args.sources[0]!r}. Leave "
                              f"{'them' if len(batch_only) > 1 else 'it'} out to convert one model.")
    source = args.sources[0]
    result = convert_file(source, args.to, args.output, example_inputs=_example(args), weights=args.weights,
                          overwrite=args.force, verify=not args.no_verify, **options)
    graph = result.graph
    if result.swept:
        print(f"removed {len(result.swept)} partial output(s) of interrupted runs from {result.path.parent}: "
              f"{', '.join(result.swept)}")
    print(f"{source} -> {result.path} ({args.to}): {len(graph.nodes)} nodes, "
          f"{graph.parameter_count():,} parameters")
    print(_input_lines(graph))
    for check in result.checks:
        print(check.line())
    return 0


def _input_lines(graph) -> str:
    """The inputs the converted model takes, each size a number or the name it keeps generic, and the sizes the
    source allowed only one value of."""
    lines = [f"  input {spec.name}: ({', '.join(str(d) for d in spec.shape)}) {spec.dtype}" for spec in graph.inputs]
    reasons: dict[str, list[str]] = {}
    for name, fixed in graph.source.get("fixed_sizes", {}).items():
        reasons.setdefault(fixed["reason"], []).append(f"{name}={fixed['size']}")
    lines += [f"  fixed {', '.join(sizes)}: {reason}" for reason, sizes in reasons.items()]
    return "\n".join(lines)


def _convert_batch(args, options: dict) -> int:
    from .batch import ProgressPrinter, convert_many

    if args.weights is not None:
        raise InterlayerError(f"convert: --weights names one model's weights. Expected, for a batch, weights given per "
                              f"model in a --manifest line (\"weights\": ...). Received: --weights {args.weights}.")
    printer = ProgressPrinter()
    try:
        report = convert_many(args.sources, args.to, args.output, manifest=args.manifest, jobs=args.jobs,
                              executor=args.executor, scheduler=args.scheduler, resume=args.resume,
                              fail_fast=args.fail_fast, verify=not args.no_verify, progress=printer,
                              overwrite=args.force, example_inputs=_example(args), **options)
    except KeyboardInterrupt:
        printer.close()
        print(f"interrupted: unfinished models are marked in {args.output / 'report.md'}", file=sys.stderr)
        raise
    printer.close()
    print(f"{report.summary()}; report: {args.output / 'report.md'}")
    return 1 if report.failed else 0


def _inspect(args) -> int:
    from .api import export
    from .summary import summary

    if args.graph is not None:  # a drawing that cannot be written is refused before the model is read
        from .drawing import check_graph_name, exists_error

        check_graph_name("inspect", args.graph)
        if args.graph.exists() and not args.force:
            raise exists_error(args.graph)
    _check_written("inspect", args.graph, args.source, args.weights)
    graph = export(args.source, example_inputs=_example(args), weights=args.weights)
    print(summary(graph))
    if args.graph is not None:
        from .drawing import write_graph

        write_graph(graph, args.graph, overwrite=args.force)
        print(f"wrote {args.graph}")
    return 0


def _diff(args) -> int:
    from .diff import diff

    if args.weights is not None:
        raise InterlayerError("diff: --weights is not used here; pass models that carry their weights (convert a "
                              "factory with its weights to an archive first).")
    _check_written("diff", args.json, args.a, args.b)
    report = diff(args.a, args.b, atol=args.atol, attr_rtol=args.attr_rtol, example_inputs=_example(args))
    print("\n".join(report.lines()))
    if args.json:
        report.write_json(args.json)
        print(f"wrote {args.json}")
    return 0 if report.equal else 1


def _verify(args) -> int:
    from .verify import verify

    if args.weights is not None:
        raise InterlayerError("verify: --weights is not used here; pass models that carry their weights.")
    _check_written("verify", args.json, args.source, args.target, args.input)
    inputs = _read_inputs(args.input) if args.input else None
    report = verify(args.source, args.target, inputs, rtol=args.rtol, atol=args.atol,
                    example_inputs=_example(args))
    print(report.table())
    if args.json:
        report.write_json(args.json)
        print(f"wrote {args.json}")
    return 0 if report.passed else 1


def _check_written(where: str, output: Path | None, *sources) -> None:
    """An optional output (--json, --graph): in a folder this user may write to, and none of the sources."""
    if output is not None:
        from .outputs import check_output

        check_output(where, output, [source for source in sources if source is not None])


def _transfer(args) -> int:
    from .transfer import transfer_file

    hints = {}
    for hint in args.hint:
        source, separator, destination = hint.partition("=")
        if not separator or not source or not destination:
            raise InterlayerError(f"transfer: a hint pairs two names. Expected --hint SRC=DST. Received: {hint!r}.")
        hints[source] = destination
    report = transfer_file(args.source, args.destination, args.output, hints=hints or None, weights=args.weights,
                           example_inputs=_example(args), overwrite=args.force, verify=not args.no_verify)
    print(report)
    return 0


def _read_inputs(path: Path):
    from .input_files import read_inputs

    return read_inputs(path)


def _run(args) -> int:
    from .api import load, run

    if args.output:
        _check_run_output(args)
    graph = load(args.archive)
    outputs = run(graph, _read_inputs(args.input))
    for name, value in outputs.items():
        print(f"{name}: {_describe(value)}")
    if args.output:
        _write_outputs(args.output, outputs, args.force)
        print(f"wrote {args.output}")
    return 0


def _check_run_output(args) -> None:
    from .outputs import check_output

    if args.output.suffix != ".npz":
        raise InterlayerError(f"run: the outputs are written as one .npz file. Expected a name ending in .npz. "
                              f"Received: -o {args.output}.")
    check_output("run", args.output, [args.archive, args.input])
    if args.output.exists() and not args.force:
        raise InterlayerError(f"run: the output '{args.output}' exists. Pass --force to replace it.")


def _describe(value) -> str:
    """Shape, dtype and, when it has any, the range and mean of an output."""
    text = f"shape {list(value.shape)} {value.dtype}"
    if value.size == 0:
        return text + ", empty"
    return text + f", min {value.min():.6g}, max {value.max():.6g}, mean {value.mean():.6g}"


def _write_outputs(path: Path, outputs: dict, overwrite: bool) -> None:
    """The outputs as one .npz (as numpy.savez writes it, whatever the output names: numpy.savez would take an
    output named 'file' for its own argument), through a temporary name beside it: nothing left on failure."""
    import zipfile

    import numpy as np

    from .files import atomic_file

    def exists() -> InterlayerError:
        return InterlayerError(f"run: the output '{path}' exists. Pass --force to replace it.")

    with atomic_file(path, overwrite=overwrite, exists=exists) as temporary:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            for name, value in outputs.items():
                with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)


def _demo(args) -> int:
    from .examples import demo

    print("LeNet-5, PyTorch -> archive -> Keras -> archive -> PyTorch, 8 seeded random 28x28 inputs;")
    print("error = max |difference| / max |PyTorch source output|\n")
    rows = demo(args.out, overwrite=args.force)
    for row in rows:
        if "relative_error" in row:
            print(f"  {row['hop']:<42} {row['relative_error']:.2e}")
        else:
            print(f"  {row['hop']:<42} {'bit-identical' if row['bit_identical'] else 'CHANGED'}")
    print(f"\nfiles in {args.out}/: lenet5.safetensors, lenet5.keras, lenet5_back.safetensors")
    ok = all(row.get("relative_error", 0.0) <= 1e-5 and row.get("bit_identical", True) for row in rows)
    print("every hop within 1e-5 of the source, weights unchanged" if ok else "FAILED: a hop exceeded 1e-5")
    return 0 if ok else 1


COMMANDS = (
    ("convert", "convert a model, or a batch of models, to another framework or to an archive", _convert_options,
     _convert),
    ("inspect", "summarise a model: nodes, ops, shapes, parameters, provenance; draw its layer graph",
     _inspect_options, _inspect),
    ("diff", "compare two models: nodes, ops, attributes, weights, inputs, outputs (exit 0 when equal, 1 when they "
             "differ)", _diff_options, _diff),
    ("verify", "compare two models output by output and layer by layer", _verify_options, _verify),
    ("transfer", "copy the weights of a model into the same architecture written independently (matched by "
                 "structure, not names)", _transfer_options, _transfer),
    ("run", "run an archive with the numpy reference interpreter", _run_options, _run),
    ("demo", "convert the built-in LeNet-5 PyTorch -> archive -> Keras -> PyTorch", _demo_options, _demo),
)
"""Each command: its name, what it does (its help), the function adding its options, the function running it."""


if __name__ == "__main__":
    raise SystemExit(main())
