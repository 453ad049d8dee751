"""Write a built model as a folder a person can keep: ``model.py`` (plain PyTorch) and ``model.safetensors``.

``model.py`` defines one ``nn.Module`` class whose ``__init__`` creates the native layers under their names and
whose ``forward`` is the code torch.fx generates for the graph (sizes read from the inputs and computed where they
are used, slices as ``a:b``: ``forward_text.py``), plus ``load()`` for the trained weights. It needs only torch
and safetensors (and, for a layer no torch class computes, a copy of interlayer's own small module for it).
Every constructor call is written from a table of the arguments each layer class takes and the attribute each
is read from, rendered from literals only, and checked to recreate the layer exactly; names are sanitised
identifiers or quoted string literals, so nothing from a model's names can become code.

Before the folder is reported written, its ``model.py`` is imported, loaded and run on seeded inputs made from
the graph, and must reproduce the built model: a package whose code cannot run is never written.
"""
from __future__ import annotations

import ast
import builtins
import inspect
import json
import math
import re
import shutil
from pathlib import Path

from ...errors import ConversionError, InterlayerError
from .forward_text import CALL, INLINE, readable
from .names import FX_GLOBALS, part

RTOL = 1e-6
"""How closely the written package must reproduce the built model (the same layers and weights: exactly, in
practice)."""

_CLUTTER = re.compile(r";\s+\w+(?: = \w+)* = None$")
_MODULE_NAMES = {"Path", "torch", "nn", "load", "inf", "nan"}
"""Names model.py defines at module level: the model's class takes none of them."""

# The constructor arguments of every layer class the torch backend builds, each read from the layer's attribute
# of the same name (``bias``: whether the layer has one; ``dtype``: added for a layer holding tensors of another
# dtype than float32). A class not listed is written from its ``__constants__``; either way the call must
# recreate the live layer exactly (_recreates), or the package is refused.
_INPLACE = ("inplace",)
_CONV = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias",
         "padding_mode")
_CONV_TRANSPOSE = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups",
                   "bias", "dilation", "padding_mode")
_BATCH_NORM = ("num_features", "eps", "momentum", "affine", "track_running_stats")
_MAX_POOL = ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode")
_AVG_POOL = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")
_RECURRENT = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional")


def _ranks(stem: str, arguments: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {f"{stem}{rank}d": arguments for rank in (1, 2, 3)}


_ARGUMENTS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("Identity", "Sigmoid", "Tanh", "Softsign"), ()),
    **dict.fromkeys(("ReLU", "ReLU6", "SiLU", "Hardswish", "Mish", "Hardsigmoid", "SELU"), _INPLACE),
    "Hardtanh": ("min_val", "max_val", "inplace"),
    "LeakyReLU": ("negative_slope", "inplace"),
    "ELU": ("alpha", "inplace"),
    "GELU": ("approximate",),
    "PReLU": ("num_parameters", "init"),
    "Softmax": ("dim",),
    "LogSoftmax": ("dim",),
    "Softplus": ("beta", "threshold"),
    "Hardshrink": ("lambd",),
    "Softshrink": ("lambd",),
    "Linear": ("in_features", "out_features", "bias"),
    **_ranks("Conv", _CONV),
    **_ranks("ConvTranspose", _CONV_TRANSPOSE),
    **_ranks("BatchNorm", _BATCH_NORM),
    "LayerNorm": ("normalized_shape", "eps", "elementwise_affine", "bias"),
    "GroupNorm": ("num_groups", "num_channels", "eps", "affine"),
    "LocalResponseNorm": ("size", "alpha", "beta", "k"),
    **_ranks("MaxPool", _MAX_POOL),
    "AvgPool1d": _AVG_POOL,
    "AvgPool2d": _AVG_POOL + ("divisor_override",),
    "AvgPool3d": _AVG_POOL + ("divisor_override",),
    **_ranks("AdaptiveAvgPool", ("output_size",)),
    **_ranks("AdaptiveMaxPool", ("output_size", "return_indices")),
    **_ranks("ConstantPad", ("padding", "value")),
    **_ranks("ZeroPad", ("padding",)),
    **_ranks("ReflectionPad", ("padding",)),
    **_ranks("ReplicationPad", ("padding",)),
    **_ranks("CircularPad", ("padding",)),
    "Upsample": ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"),
    "Flatten": ("start_dim", "end_dim"),
    "Dropout": ("p", "inplace"),
    "Embedding": ("num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type", "scale_grad_by_freq",
                  "sparse"),
    "LSTM": _RECURRENT + ("proj_size",),
    "GRU": _RECURRENT,
    "RNN": _RECURRENT[:3] + ("nonlinearity",) + _RECURRENT[3:],
    "MergedRecurrent": ("layers", "merge_mode"),
}


def _helpers() -> dict:
    """interlayer's own code a package may need (a layer or function no torch class provides), by the object the
    model uses: the names to copy into model.py, in the order they are defined."""
    from . import guards, recurrent

    return {recurrent._merge: ("_merge",), recurrent.MergedRecurrent: ("_merge", "MergedRecurrent"),
            guards.require: ("require",)}


INPUTS_KEY = "interlayer.inputs"
"""model.safetensors metadata: the input specs of the model (JSON list), so that the folder is a source too"""


def _input_metadata(graph) -> dict[str, str] | None:
    """The graph's inputs as input specs (``x:float32[N=2,3,H=8,W=8]``, the example sizes seeded checks use)."""
    from ...ir import bindings

    if graph is None:
        return None
    sizes = bindings.choose(graph, bindings.defaults(graph)) or {}
    specs = []
    for spec in graph.inputs:
        axes = [str(size) if isinstance(size, int) else f"{size}={sizes[size]}" if size in sizes else "?"
                for size in spec.shape]
        specs.append(f"{spec.name}:{spec.dtype}[{','.join(axes)}]")
    return {INPUTS_KEY: json.dumps(specs)}


def input_specs(directory: str | Path) -> list[str] | None:
    """The input specs a package folder's weights file records, if any."""
    from safetensors import safe_open

    try:
        with safe_open(str(Path(directory) / "model.safetensors"), "np") as weights:
            text = (weights.metadata() or {}).get(INPUTS_KEY)
        specs = json.loads(text) if text else None
    except Exception:  # noqa: BLE001  (a damaged file is reported when the weights are loaded)
        return None
    return specs if isinstance(specs, list) and all(isinstance(x, str) for x in specs) else None


def write_package(model, directory: str | Path, source: str = "") -> Path:
    """Write ``model.py`` and ``model.safetensors`` for a GraphModule built by interlayer into ``directory``
    (created here), then check the written package (:func:`check_package`). A package that does not reproduce
    the model raises :class:`ConversionError` and leaves no folder behind."""
    from safetensors.torch import save_file

    directory = Path(directory)
    graph = _graph(model)
    text = model_source(model, source)
    try:
        directory.mkdir(parents=True)
    except FileExistsError:
        raise InterlayerError(f"torch package: the folder '{directory}' exists. Expected a new folder.") from None
    try:
        (directory / "model.py").write_text(text, encoding="utf-8")
        state = {name: tensor.detach().contiguous() for name, tensor in model.state_dict().items()}
        save_file(state, str(directory / "model.safetensors"), metadata=_input_metadata(graph))
        check_package(model, directory, graph)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return directory


def _graph(model):
    graph = getattr(model, "meta", {}).get("interlayer.graph")
    if graph is None:
        raise InterlayerError(f"torch package: the model carries no graph to check its package against. Expected "
                              f"a module built by interlayer.build(graph, 'torch'). Received: "
                              f"{type(model).__name__}.")
    return graph


def check_package(model, directory: str | Path, graph=None, rtol: float = RTOL) -> float:
    """Import the package in ``directory`` as :func:`load_package` does, run it on seeded inputs made from the
    graph and compare it with ``model``; the largest relative error, or :class:`ConversionError` when the code
    does not run or the outputs differ by more than ``rtol``."""
    from ...conversion import random_inputs
    from .build import output_error, predict

    inputs = random_inputs(_graph(model) if graph is None else graph)
    try:
        expected = predict(model, inputs)
    except Exception as exc:
        raise ConversionError(f"torch package: the built model does not run on seeded inputs made from its graph; "
                              f"nothing was written. Received: {_first_line(exc)}") from exc
    try:
        actual = predict(load_package(directory), inputs)
    except Exception as exc:
        raise ConversionError(f"torch package: the written model.py does not run; nothing was written. Expected "
                              f"load() and forward() to run on seeded inputs. Received: {_first_line(exc)}") from exc
    errors = [output_error(a, e) for a, e in zip(actual, expected)]
    error = max(errors, default=0.0) if len(actual) == len(expected) else float("inf")
    if not error <= rtol:
        raise ConversionError(f"torch package: the written model.py does not reproduce the built model; nothing "
                              f"was written. Expected a relative error <= {rtol:.0e} on seeded inputs. Received: "
                              f"{error:.2e} over {len(actual)} output(s) ({len(expected)} expected).")
    return error


def _first_line(exc: Exception) -> str:
    return f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"


def model_source(model, source: str = "") -> str:
    """The text of ``model.py`` for ``model`` (a ``torch.fx.GraphModule``)."""
    from ... import __version__

    class_name = _class_name(type(model).__name__)
    init = _init_lines(model)
    forward, functions, aliases = _forward_lines(model)
    layers = [name for module in model.modules() for name in _helpers().get(type(module), ())]
    helpers = _helper_lines(functions + layers) + ([*aliases, "", ""] if aliases else [])
    lines = [
        f'"""{class_name}: generated by interlayer {__version__}{_from(source)}.',
        "",
        "Plain PyTorch: edit, train and keep it. `load()` returns the model with the trained weights stored",
        'beside this file in model.safetensors."""',
        "from pathlib import Path",
        "",
        "import torch",
        "from torch import nn",
        "",
        "",
        *helpers,
        f"class {class_name}(nn.Module):",
        "    def __init__(self):",
        "        super().__init__()",
        *init,
    ]
    if any(re.search(r"\b(inf|nan)\b", line) for line in forward):
        lines.insert(lines.index("import torch"), "from math import inf, nan\n")
    lines += ["", *forward, "", "",
              "def load(path=None):",
              f'    """A {class_name} in eval mode with the weights of model.safetensors (or ``path``)."""',
              "    from safetensors.torch import load_file",
              "",
              f"    model = {class_name}()",
              '    model.load_state_dict(load_file(str(path or Path(__file__).with_name("model.safetensors"))))',
              "    return model.eval()", ""]
    return "\n".join(lines)


def _class_name(name: str) -> str:
    """The model's class: a capitalised identifier that no module-level name of model.py shadows."""
    name = part(name)
    name = name[0].upper() + name[1:]
    taken = _MODULE_NAMES | {helper for names in _helpers().values() for helper in names}
    while name in taken:
        name += "_"
    return name


def _helper_lines(names: list[str]) -> list[str]:
    """The source of each helper ``model.py`` needs, once each, two blank lines after each."""
    from . import guards, recurrent

    lines = []
    for name in dict.fromkeys(names):
        try:
            text = inspect.getsource(getattr(recurrent, name, None) or getattr(guards, name))
        except (OSError, TypeError) as exc:
            raise InterlayerError(f"torch package: the source of interlayer's {name} is not available to copy into "
                                  f"model.py. Install interlayer from source files.") from exc
        lines += [*text.rstrip("\n").splitlines(), "", ""]
    return lines


def _from(source: str) -> str:
    return f" from {source!r}" if source and '"""' not in source and "\\" not in source else ""


def _init_lines(model) -> list[str]:
    """One line per layer; a dotted name nests through nn.ModuleDict containers, so state_dict keys are kept.

    A container (a plain ``nn.Module``: a level of nesting, or the holder of a constant operand,
    ``<node>.other``) declares the tensors it holds itself: empty here, filled by ``load()``. A layer's own
    children (the layers a MergedRecurrent runs) are made by its constructor call.
    """
    from torch import nn

    lines = _tensor_lines("self", model)
    written: set[str] = set()
    for name, module in model.named_modules():
        parts = name.split(".")
        if not name or any(".".join(parts[:i]) in written for i in range(1, len(parts))):
            continue
        container = type(module) is nn.Module
        value = "nn.ModuleDict()" if container else constructor(module)
        if not container:
            written.add(name)
        parent, _, leaf = name.rpartition(".")
        if parent:
            lines.append(f"        {_owner(parent)}[{_key(leaf)}] = {value}")
        elif leaf.isidentifier():
            lines.append(f"        self.{leaf} = {value}")
        else:
            lines.append(f"        self.add_module({_key(leaf)}, {value})")
        if container:
            lines += _tensor_lines(_owner(name), module)
    return lines


def _tensor_lines(owner: str, module) -> list[str]:
    """``register_parameter``/``register_buffer`` of the tensors a container holds directly, empty."""
    from torch import nn

    lines = []
    for name, value in list(module.named_parameters(recurse=False)) + list(module.named_buffers(recurse=False)):
        dtype = "" if str(value.dtype) == "torch.float32" else f", dtype={value.dtype}"
        empty = f"torch.empty({tuple(value.shape)}{dtype})"
        if isinstance(value, nn.Parameter):
            lines.append(f"        {owner}.register_parameter({_key(name)}, nn.Parameter({empty}))")
        else:
            lines.append(f"        {owner}.register_buffer({_key(name)}, {empty})")
    return lines


def _owner(path: str) -> str:
    first, *rest = path.split(".")
    head = f"self.{first}" if first.isidentifier() else f"getattr(self, {_key(first)})"
    return head + "".join(f"[{_key(p)}]" for p in rest)


def _key(name: str) -> str:
    """A module name as a string literal (names are sanitised already; json quoting keeps it a literal anyway)."""
    return json.dumps(name)


_NESTED = re.compile(r'getattr\((self(?:\.\w+|\["\w+"\])+), "(\w+)"\)')


def _forward_lines(model) -> tuple[list[str], list[str], list[str]]:
    """``forward``'s lines, the interlayer helpers it calls (model.py defines each under its own name) and the
    aliases it needs: fx's longer name for a helper is kept only where forward has a value of the helper's name."""
    code = model.graph.python_code(root_module="self")
    src, helpers, aliases, unknown = code.src, [], [], []
    for name, value in code.globals.items():
        if name in FX_GLOBALS or getattr(builtins, name, None) is value:  # getattr(x, "device")
            continue
        copied = _helpers().get(value) if callable(value) else None
        if copied is None:
            unknown.append(name)
            continue
        helpers += copied
        if re.search(rf"\b{value.__name__}\b", src):
            aliases.append(f"{name} = {value.__name__}")
        else:
            src = re.sub(rf"\b{name}\b", value.__name__, src)
    if unknown:
        raise InterlayerError(f"torch package: the forward code needs names it cannot import: {sorted(unknown)}.")
    body = [_CLUTTER.sub("", line.rstrip()) for line in src.strip("\n").splitlines() if line.strip()]
    inline = {node.name for node in model.graph.nodes if node.meta.get(INLINE)}
    calls = {node.name for node in model.graph.nodes if node.meta.get(CALL)}
    return ["    " + _index_containers(line) for line in readable(body, inline, calls)], helpers, aliases


def _index_containers(line: str) -> str:
    """``getattr(self.layer1, "0")`` -> ``self.layer1["0"]``: nested containers are ModuleDicts."""
    while True:
        shorter = _NESTED.sub(r'\1["\2"]', line)
        if shorter == line:
            return line
        line = shorter


def constructor(module) -> str:
    """``nn.Class(arg=value, ...)`` for a native layer (or ``Helper(...)`` for one of interlayer's own, copied
    into model.py): the arguments that differ from their defaults (``(1, 1)`` taken as a default of ``1`` where
    the layer expands it so), or every argument when no shorter call recreates the layer exactly."""
    from torch import nn

    cls = type(module)
    helper = cls in _helpers()
    if not helper and getattr(nn, cls.__name__, None) is not cls:
        raise InterlayerError(f"torch package: layer {cls.__module__}.{cls.__qualname__} is not a torch.nn layer; "
                              f"model.py holds native layers only.")
    values = {name: _argument(module, name) for name in _arguments(cls)}
    dtype = _dtype(module)
    if dtype is not None:
        values["dtype"] = dtype
    defaults = _defaults(cls)
    short = [name for name in values if name not in defaults or not _same(values[name], defaults[name])]
    exact = [name for name in values if name not in defaults or repr(values[name]) != repr(defaults[name])]
    call = cls.__name__ if helper else f"nn.{cls.__name__}"
    for names in (short, exact, list(values)):  # the shortest call that recreates the layer
        text = f"{call}({', '.join(f'{name}={_literal(values[name])}' for name in names)})"
        if _recreates(text, module):
            return text
    raise InterlayerError(f"torch package: {text} does not recreate the layer {module!r}. Expected the arguments "
                          f"of package._ARGUMENTS[{cls.__name__!r}] to say every setting of the layer.")


def _arguments(cls) -> tuple[str, ...]:
    """The constructor arguments of ``cls``: from the table, else from what the class declares constant."""
    if cls.__name__ in _ARGUMENTS:
        return _ARGUMENTS[cls.__name__]
    return tuple(getattr(cls, "__constants__", ()))


def _defaults(cls) -> dict:
    """Each argument's default, from the first constructor along the class's bases that names it (the recurrent
    layers take ``*args, **kwargs`` and pass them on to RNNBase)."""
    import torch

    defaults: dict = {}
    for klass in cls.__mro__:
        if klass is torch.nn.Module:
            break
        if "__init__" not in vars(klass):
            continue
        for parameter in inspect.signature(klass.__init__).parameters.values():
            if parameter.default is not inspect.Parameter.empty:
                defaults.setdefault(parameter.name, parameter.default)
    return defaults


def _argument(module, name: str):
    import torch

    value = getattr(module, name, _MISSING)
    if name == "bias" and (value is None or isinstance(value, torch.Tensor)):
        return value is not None  # the tensor, or None: whether the layer has one
    if value is _MISSING:
        raise InterlayerError(f"torch package: cannot read argument '{name}' of {type(module).__name__}. Expected "
                              f"an attribute of that name on the layer.")
    return list(value) if isinstance(value, torch.nn.ModuleList) else value


_MISSING = object()


def _dtype(module):
    """The dtype of the floating tensors a layer holds itself, when not float32 (None otherwise)."""
    import torch

    tensors = list(module.parameters(recurse=False)) + list(module.buffers(recurse=False))
    dtypes = {tensor.dtype for tensor in tensors if tensor.is_floating_point()}
    return next(iter(dtypes)) if len(dtypes) == 1 and dtypes != {torch.float32} else None


def _same(a, b) -> bool:
    """Whether an argument equals its default (``(1, 1)`` equals a default of ``1``, as torch expands it)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, tuple) and not isinstance(b, tuple):
        return all(_same(item, b) for item in a)
    return type(a) is type(b) and a == b


def _literal(value) -> str:
    import torch

    if isinstance(value, float):
        return f'float("{value}")' if math.isinf(value) or math.isnan(value) else repr(value)
    if isinstance(value, (bool, int, str)) or value is None:
        return repr(value)
    if isinstance(value, torch.dtype):
        return str(value)  # torch.bfloat16
    if isinstance(value, torch.nn.Module):
        return constructor(value)
    if isinstance(value, (tuple, list)):
        items = ", ".join(_literal(v) for v in value)
        return f"({items},)" if isinstance(value, tuple) and len(value) == 1 else (
            f"({items})" if isinstance(value, tuple) else f"[{items}]")
    raise InterlayerError(f"torch package: a layer argument is not a literal. Received: {value!r}.")


_LITERALS = (ast.Expression, ast.Call, ast.Attribute, ast.Name, ast.Load, ast.keyword, ast.Constant, ast.Tuple,
             ast.List, ast.UnaryOp, ast.USub)


def _recreates(text: str, module) -> bool:
    """The call holds literals only (else an error), and recreates a layer equal to ``module`` in every setting
    and in the names, shapes and dtypes of its tensors (made on the meta device: no memory, no random draws)."""
    import torch
    from torch import nn

    tree = ast.parse(text, mode="eval")
    helpers = {cls.__name__: cls for cls in _helpers() if isinstance(cls, type)}
    for item in ast.walk(tree):
        if not (isinstance(item, _LITERALS) and _literal_part(item, helpers)):
            raise InterlayerError(f"torch package: refusing to write a non-literal layer argument: {text}")
    namespace = {"nn": nn, "float": float, "torch": torch, **helpers}
    try:
        with torch.device("meta"):
            rebuilt = eval(compile(tree, "<layer>", "eval"), {"__builtins__": {}}, namespace)
    except Exception:  # an argument the class does not take (a short form, or __constants__ that are not all)
        return False
    return _settings(rebuilt) == _settings(module)


def _literal_part(item, helpers) -> bool:
    """A name is ``nn``, ``float``, ``torch`` or a helper class; an attribute ``nn.<Layer>`` or ``torch.<dtype>``."""
    import torch

    if isinstance(item, ast.Name):
        return item.id in ("nn", "float", "torch", *helpers)
    if isinstance(item, ast.Attribute):
        owner = item.value.id if isinstance(item.value, ast.Name) else None
        return owner == "nn" or (owner == "torch" and isinstance(getattr(torch, item.attr, None), torch.dtype))
    return True


def _settings(module) -> dict:
    """Every setting of the layer and of its sublayers, and the names, shapes and dtypes of their tensors."""
    import torch

    found = {}
    for name, sub in module.named_modules():
        settings = {key: repr(value) for key, value in vars(sub).items()
                    if not key.startswith("_") and key != "training" and not isinstance(value, torch.Tensor)}
        tensors = [(key, tuple(value.shape), value.dtype)
                   for key, value in [*sub.named_parameters(recurse=False), *sub.named_buffers(recurse=False)]]
        found[name] = (type(sub), settings, tensors)
    return found


def load_package(directory: str | Path):
    """The model of a package folder written by :func:`write_package`: its ``model.py`` is imported (run as
    Python: open only folders you trust, as with any code) and its ``load()`` called. The folder is left as it
    was: no ``__pycache__`` is written into it."""
    import types

    path = Path(directory) / "model.py"
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise InterlayerError(f"torch package '{directory}': cannot read {path} ({exc}).") from exc
    module = types.ModuleType(f"interlayer_package_{abs(hash(str(path.resolve())))}")
    module.__file__ = str(path)
    exec(compile(text, str(path), "exec"), module.__dict__)
    if not callable(getattr(module, "load", None)):
        raise InterlayerError(f"torch package '{directory}': model.py has no load() function. Expected a folder "
                              f"written by interlayer convert --to torch.")
    model = module.load()
    model.interlayer_built = True  # it takes and returns tensors in the IR's layout (execute.predict)
    return model
