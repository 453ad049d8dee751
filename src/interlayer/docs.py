"""Generate the tables of ``docs/ir.md`` and the README's support section from the registries, and the README's
list of tested versions from ``requirements.lock``.

``python -m interlayer.docs [--check] [ROOT]`` rewrites (or, with ``--check``, compares) every block between
``<!-- BEGIN GENERATED: name -->`` and ``<!-- END GENERATED: name -->`` in docs/ir.md and README.md.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from .ir import ops
from .registry import converters


def op_table() -> str:
    """One section per op family: each op with its attributes (kind, default) and weights (layout)."""
    lines = []
    families: dict[str, list[ops.OpSchema]] = {}
    for schema in ops.OPS.values():
        families.setdefault(schema.family, []).append(schema)
    for family, schemas in families.items():
        lines += [f"### {family}", "", "| op | meaning | attributes (kind = default) | weights (canonical layout) |",
                  "|---|---|---|---|"]
        for schema in schemas:
            attrs = "<br>".join(f"`{a.name}` ({a.kind}{', nullable' if a.nullable else ''}) = {a.describe_default()}"
                                + (f": {a.doc}" if a.doc else "") for a in schema.attrs) or "none"
            weights = "<br>".join(f"`{w.name}` {w.layout}" + (f" if `{w.present_if}`" if w.present_if else "")
                                  for w in schema.weights) or "none"
            arity = _arity(schema.inputs)
            lines.append(f"| `{schema.name}` | {_cell(schema.doc)} ({arity}) | {_cell(attrs)} | {_cell(weights)} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def support_table() -> str:
    """Which backends write each op, and which source layers each frontend reads, from the registries."""
    from .reference.interpreter import KERNELS, load_kernels

    load_kernels()
    from .registry import FRAMEWORKS

    backends = {fw: set(converters(fw, "backend")) for fw in FRAMEWORKS}
    lines = ["| IR op | reference | " + " | ".join(f"{fw} backend" for fw in FRAMEWORKS) + " |",
             "|---|---|" + "---|" * len(FRAMEWORKS)]
    for name in ops.OPS:
        marks = ["yes" if name in backends[fw] else "-" for fw in FRAMEWORKS]
        lines.append(f"| `{name}` | {'yes' if name in KERNELS else '-'} | " + " | ".join(marks) + " |")
    lines.append("")
    for fw in FRAMEWORKS:
        builtin = f"interlayer.frontends.{fw}."  # plugins' converters are theirs to document
        keys = sorted({_label(key) for key, fn in converters(fw, "frontend").items() if fn.__module__.startswith(builtin)})
        lines.append(f"**{fw} frontend reads** ({len(keys)}): " + ", ".join(f"`{k}`" for k in keys))
        lines.append("")
    return "\n".join(lines)


def _label(key) -> str:
    """A readable name for a frontend key: ``nn.Conv2d``, ``F.relu``, ``torch.cat``, ``operator.add``, ``keras.Dense``,
    ``onnx.Conv`` and ``onnx.Softmax@13`` (an ONNX op type with the opset its converter reads from, when not 1)."""
    if isinstance(key, tuple):
        *domain, op_type, since = key
        prefix = ".".join(["onnx", *(d for d in domain if d not in ("", "ai.onnx"))])
        return f"{prefix}.{op_type}" + (f"@{since}" if since != 1 else "")
    if isinstance(key, str):
        return f"Tensor.{key}"
    qualified = getattr(key, "_qualified_op_name", None)  # an ATen operator (the PyTorch frontend's keys)
    if isinstance(qualified, str):
        return qualified.replace("::", ".")
    name = getattr(key, "__name__", None) or repr(key)
    module = getattr(key, "__module__", None) or ""
    if module.startswith("torch.nn.modules"):
        return f"nn.{name}"
    if module.startswith(("torch.nn.functional", "torch._C._nn")) or "boolean_dispatch" in getattr(key, "__qualname__", ""):
        return f"F.{name}"
    if module == "torch._C._special":
        return f"torch.special.{name.removeprefix('special_')}"
    if module.startswith("torch") or module == "" and "VariableFunctions" in repr(key):
        return f"torch.{name}"
    if module.startswith(("keras.src.ops", "keras.ops")):
        return f"keras.ops.{name}"
    if module.startswith(("keras.src.applications", "keras.applications")):
        return f"keras.applications.{name}"
    if module.startswith("keras"):
        return f"keras.{name}"
    return f"{module.split('.')[0].lstrip('_')}.{name}"


def _arity(inputs) -> str:
    low, high = inputs
    if low == high:
        return f"{low} input" + ("s" if low != 1 else "")
    return f"{low}+ inputs" if high is None else f"{low}-{high} inputs"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


TESTED = ("torch", "tensorflow-cpu", "keras", "onnx", "onnxruntime", "onnxscript", "transformers", "numpy",
          "safetensors", "ml-dtypes", "dask")
"""the packages whose locked versions the README names"""


def versions_table(root: Path) -> str:
    """The locked versions of the main packages (``requirements.lock``, what ``make test`` installs and CI tests)."""
    pins = {}
    for line in (root / "requirements.lock").read_text().splitlines():
        name, separator, version = line.split("#", 1)[0].strip().partition("==")
        if separator:
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return ", ".join(f"{name} {pins[name]}" for name in TESTED if name in pins) + "\n"


GENERATORS = {"ops": lambda root: op_table(), "support": lambda root: support_table(), "versions": versions_table}
_BLOCK = re.compile(r"(<!-- BEGIN GENERATED: (\w+) -->\n)(.*?)(<!-- END GENERATED: \2 -->)", re.S)


def render(text: str, root: Path) -> str:
    return _BLOCK.sub(lambda m: m.group(1) + GENERATORS[m.group(2)](root) + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    root = Path(args[0]) if args else Path.cwd()
    stale = []
    for path in (root / "docs" / "ir.md", root / "README.md"):
        text = path.read_text()
        fresh = render(text, root)
        if fresh != text:
            stale.append(str(path))
            if not check:
                path.write_text(fresh)
    if check and stale:
        print("out of date (run `python -m interlayer.docs`):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
