"""Sizes as torch.export records them (``SymInt`` over its own symbols ``s0``, ``s72``...) as IR sizes: ints, or
size expressions (``interlayer.ir.dims``) over the names the graph's inputs bind (``N``, ``T``, ``H``...).

Each symbol of a graph input's shape is named once (:class:`SizeNames`): by the name the caller gave it, or by
its role (axis 0 of any input is the batch ``N``; a token or sequence axis ``T``; image axes ``H``, ``W``, a
volume's ``D``; an audio signal's ``L``), a repeated role numbered (``T1``). Expressions torch derives
(``FloorDiv(s1 - 1, 2) + 1``) are translated into the IR's canonical text.
"""
from __future__ import annotations

from typing import Any

from ...errors import UnsupportedLayerError
from ...ir import dims


class SizeNames:
    """torch.export symbol (its text, ``"s72"``) -> IR size name."""

    def __init__(self):
        self.names: dict[str, str] = {}
        self.lowest: dict[str, int] = {}
        """IR name -> the smallest size torch.export allows it (its range constraint)"""

    def at_least(self, size, value: int) -> bool:
        """Whether ``size`` (an int, or a plain name with a known lower bound) is always >= ``value``."""
        if isinstance(size, int):
            return size >= value
        return size in self.lowest and self.lowest[size] >= value

    def bind(self, symbol: str, wanted: str) -> str:
        """Name ``symbol`` ``wanted`` (or ``wanted`` numbered when another symbol has that name); its name."""
        if symbol in self.names:
            return self.names[symbol]
        taken = set(self.names.values())
        name, index = wanted, 1
        while name in taken:
            name = f"{wanted}{index}"
            index += 1
        self.names[symbol] = name
        return name

    def dim(self, value: Any) -> dims.Dim:
        """An int, a ``SymInt`` or a sympy expression as an IR size."""
        if isinstance(value, bool):
            raise TypeError(f"a size is an int, not a bool: {value!r}")
        if isinstance(value, int):
            return value
        expression = getattr(getattr(value, "node", None), "expr", value)
        if getattr(expression, "is_Integer", False):
            return int(expression)
        return dims.normal(self.text(expression))

    def shape(self, values) -> tuple:
        return tuple(self.dim(value) for value in values)

    def text(self, expression) -> str:
        """The IR text of a sympy size expression."""
        import sympy
        from torch.utils._sympy import functions as f

        if expression.is_Integer:
            return str(int(expression))
        if expression.is_Symbol:
            name = self.names.get(str(expression))
            if name is None:
                raise UnsupportedLayerError("torch frontend", [(
                    f"size {expression}", "is a size torch.export derived from no input axis. Expected sizes of "
                    "the graph's inputs and expressions of them.")])
            return name
        if isinstance(expression, sympy.Add):
            return "(" + " + ".join(self.text(term) for term in expression.args) + ")"
        if isinstance(expression, sympy.Mul):
            return "(" + "*".join(self.text(term) for term in expression.args) + ")"
        if isinstance(expression, sympy.Pow) and expression.exp.is_Integer and int(expression.exp) > 0:
            return "(" + "*".join([self.text(expression.base)] * int(expression.exp)) + ")"
        if isinstance(expression, (f.FloorDiv, f.CleanDiv)):
            return f"(({self.text(expression.args[0])})//({self.text(expression.args[1])}))"
        if isinstance(expression, f.CeilDiv):
            numerator, denominator = (self.text(arg) for arg in expression.args)
            return f"(({numerator} + {denominator} - 1)//({denominator}))"
        if isinstance(expression, (f.Mod, f.PythonMod)):
            return f"(({self.text(expression.args[0])})%({self.text(expression.args[1])}))"
        if isinstance(expression, (f.TruncToInt, f.FloorToInt)):
            return self._scaled(expression.args[0])
        if isinstance(expression, (f.Max, sympy.Max, f.Min, sympy.Min)):
            function = "max" if isinstance(expression, (f.Max, sympy.Max)) else "min"
            texts = [self.text(arg) for arg in expression.args]
            text = texts[0]
            for other in texts[1:]:
                text = f"{function}({text}, {other})"
            return text
        raise UnsupportedLayerError("torch frontend", [(
            f"size {expression}", f"uses {type(expression).__name__}, which IR sizes do not express. Expected sums, "
            f"products, floor divisions, remainders, max and min of input sizes.")])


    def _scaled(self, product) -> str:
        """``floor(c * size)`` (an interpolation's output size for a scale factor c >= 0) as integer arithmetic:
        c as a fraction p / q, exact for binary fractions such as 1.5, else the nearest with q <= 1000."""
        import sympy
        from fractions import Fraction
        from torch.utils._sympy import functions as f

        factors = product.args if isinstance(product, sympy.Mul) else (product,)
        numbers = [a for a in factors if a.is_Number]
        sizes = [a.args[0] if isinstance(a, f.ToFloat) else a for a in factors if not a.is_Number]
        if len(numbers) != 1 or len(sizes) != 1 or float(numbers[0]) < 0:
            raise UnsupportedLayerError("torch frontend", [(f"size {product}", "is not a multiple of one size. "
                                        "Expected floor(scale * size).")])
        exact = Fraction(float(numbers[0]))
        ratio = exact if exact.denominator <= 1024 else exact.limit_denominator(1000)
        return f"(({ratio.numerator}*({self.text(sizes[0])}))//{ratio.denominator})"


def role_name(axis: int, rank: int, integer: bool) -> str:
    """The default name of a generic input axis: the batch, a sequence, an image's height and width."""
    if axis == 0:
        return "N"
    if integer or rank == 3:
        return "T" if axis == 1 else f"A{axis}"
    if rank == 2:
        return "L"
    spatial = {4: ("H", "W"), 5: ("D", "H", "W")}.get(rank)
    if spatial is not None and axis >= 2:
        return spatial[axis - 2]
    return f"A{axis}"
