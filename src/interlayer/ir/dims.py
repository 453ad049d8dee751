"""Symbolic sizes: each dimension of a shape is an int or an expression over named sizes.

A name (``N``, ``T``, ``H``; any identifier) stands for a size the model keeps generic; a graph input binds it
(``TensorSpec`` shapes such as ``("N", "T")``). An expression combines names and integers with ``+``, ``-``,
``*``, ``//`` (floor division), ``%`` and ``max(a, b)``/``min(a, b)``: ``N*T`` is a batch merged with a sequence,
``(H - 1)//2 + 1`` the height after a stride-2 convolution, ``T + 1`` a sequence after a class token.

Expressions are kept in one canonical text, so that equal sizes compare equal as strings: a sum of monomials
(products of names and opaque ``//``, ``%``, ``max``, ``min`` terms) with integer coefficients, terms ordered by
degree then name, ``2*N*T + T - 1``. Integer results are ints. The text is valid Python over the names, which is
how the PyTorch package writes sizes; :func:`evaluate` computes one with any number type (ints, or a framework's
size tensors) through the operators given to it, which is how the Keras and ONNX backends compute sizes at run
time.
"""
from __future__ import annotations

import ast
import operator
import re
from typing import Any, Callable, Mapping

from ..errors import ValidationError

Dim = int | str
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# a polynomial: monomial (sorted tuple of (atom, power)) -> integer coefficient; the empty monomial is the constant
Poly = dict[tuple[tuple[str, int], ...], int]


def is_symbolic(dim: Any) -> bool:
    return isinstance(dim, str)


def normal(dim: Any) -> Dim:
    """The canonical form of a dimension: an int, or the canonical text of an expression (an int when it
    reduces to one). Raises :class:`ValidationError` for anything else."""
    if isinstance(dim, bool):
        raise ValidationError(f"size: a dimension is an int or an expression. Received: {dim!r}.")
    if isinstance(dim, int):
        return dim
    if not isinstance(dim, str):
        raise ValidationError(f"size: a dimension is an int or an expression. Received: {dim!r}.")
    return _text(_poly(_parse(dim)))


def names(dim: Dim) -> set[str]:
    """The names an expression reads (none for an int)."""
    if not isinstance(dim, str):
        return set()
    return {node.id for node in ast.walk(_parse(dim)) if isinstance(node, ast.Name) and node.id not in _CALLS}


def is_name(dim: Any) -> bool:
    """Whether ``dim`` is one plain name (a size a graph input can bind), not an expression of names."""
    return isinstance(dim, str) and bool(_NAME.match(dim)) and dim not in _CALLS


# arithmetic ---------------------------------------------------------------------------------------------------


def add(a: Dim, b: Dim) -> Dim:
    return _combine(a, b, "+")


def sub(a: Dim, b: Dim) -> Dim:
    return _combine(a, b, "-")


def mul(a: Dim, b: Dim) -> Dim:
    return _combine(a, b, "*")


def floordiv(a: Dim, b: Dim) -> Dim:
    return _combine(a, b, "//")


def mod(a: Dim, b: Dim) -> Dim:
    return _combine(a, b, "%")


def maximum(a: Dim, b: Dim) -> Dim:
    return normal(f"max({a}, {b})")


def minimum(a: Dim, b: Dim) -> Dim:
    return normal(f"min({a}, {b})")


def product(dims) -> Dim:
    result: Dim = 1
    for dim in dims:
        result = mul(result, dim)
    return result


def total(dims) -> Dim:
    result: Dim = 0
    for dim in dims:
        result = add(result, dim)
    return result


def _combine(a: Dim, b: Dim, symbol: str) -> Dim:
    if isinstance(a, int) and isinstance(b, int):
        return _INT_OPS[symbol](a, b)
    return normal(f"({a}) {symbol} ({b})")


def equal(a: Dim, b: Dim) -> bool:
    """Whether two dimensions are the same size whatever the names stand for (as far as canonical forms tell)."""
    return normal(a) == normal(b)


# evaluation ---------------------------------------------------------------------------------------------------


def evaluate(dim: Dim, bindings: Mapping[str, Any], operations: Mapping[str, Callable] | None = None) -> Any:
    """The value of ``dim`` with each name bound: ints by default, or any number type through ``operations``
    (``{"+": ..., "-": ..., "*": ..., "//": ..., "%": ..., "max": ..., "min": ..., "neg": ...}``, each given
    operands that are values of that type or ints)."""
    if isinstance(dim, int):
        return dim
    table = {**_INT_OPS, **(operations or {})}
    missing = names(dim) - set(bindings)
    if missing:
        raise ValidationError(f"size '{dim}': no value for {sorted(missing)}. Expected every name bound by a graph "
                              f"input. Received: bindings for {sorted(bindings)}.")
    return _walk(_parse(dim), bindings, table)


def _walk(node: ast.AST, bindings: Mapping[str, Any], table: Mapping[str, Callable]) -> Any:
    if isinstance(node, ast.Expression):
        return _walk(node.body, bindings, table)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return bindings[node.id]
    if isinstance(node, ast.UnaryOp):
        return table["neg"](_walk(node.operand, bindings, table))
    if isinstance(node, ast.BinOp):
        return table[_BINARY[type(node.op)]](_walk(node.left, bindings, table), _walk(node.right, bindings, table))
    assert isinstance(node, ast.Call)
    return table[node.func.id](*(_walk(arg, bindings, table) for arg in node.args))


_INT_OPS: dict[str, Callable] = {"+": operator.add, "-": operator.sub, "*": operator.mul, "//": operator.floordiv,
                                 "%": operator.mod, "max": max, "min": min, "neg": operator.neg}
_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//", ast.Mod: "%"}
_CALLS = ("max", "min")


# parsing and the canonical form -------------------------------------------------------------------------------

_PARSED: dict[str, ast.Expression] = {}


def _parse(text: str) -> ast.Expression:
    """The expression tree of ``text``; anything outside the grammar is a :class:`ValidationError`."""
    tree = _PARSED.get(text)
    if tree is not None:
        return tree
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError) as exc:
        raise ValidationError(f"size '{text}': not an expression of sizes. Expected names, integers, + - * // %, "
                              f"max and min.") from exc
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in _CALLS and len(node.args) == 2
                    and not node.keywords):
                raise ValidationError(f"size '{text}': calls other than max(a, b) and min(a, b) are not sizes.")
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, int) or isinstance(node.value, bool):
                raise ValidationError(f"size '{text}': constants must be integers. Received: {node.value!r}.")
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                raise ValidationError(f"size '{text}': operator {type(node.op).__name__} is not one of + - * // %.")
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub):
                raise ValidationError(f"size '{text}': only unary minus applies to sizes.")
        elif not isinstance(node, (ast.Expression, ast.Name, ast.Load, ast.operator, ast.unaryop)):
            raise ValidationError(f"size '{text}': {type(node).__name__} is not part of a size expression.")
    if len(_PARSED) < 100_000:
        _PARSED[text] = tree
    return tree


def _poly(node: ast.AST) -> Poly:
    if isinstance(node, ast.Expression):
        return _poly(node.body)
    if isinstance(node, ast.Constant):
        return _const(node.value)
    if isinstance(node, ast.Name):
        return {((node.id, 1),): 1}
    if isinstance(node, ast.UnaryOp):
        return _scale(_poly(node.operand), -1)
    if isinstance(node, ast.Call):
        left, right = (_poly(arg) for arg in node.args)
        if _is_const(left) and _is_const(right):
            return _const(_INT_OPS[node.func.id](_value(left), _value(right)))
        if left == right:
            return left
        first, second = sorted((str(_text(left)), str(_text(right))))
        return _atom(f"{node.func.id}({first}, {second})")
    left, right = _poly(node.left), _poly(node.right)
    symbol = _BINARY[type(node.op)]
    if symbol == "+":
        return _sum(left, right)
    if symbol == "-":
        return _sum(left, _scale(right, -1))
    if symbol == "*":
        return _product(left, right)
    return _divide(left, right, symbol)


def _divide(left: Poly, right: Poly, symbol: str) -> Poly:
    if _is_const(right) and _value(right) == 0:
        raise ValidationError(f"size: division by zero in ({_text(left)}) {symbol} 0.")
    if _is_const(left) and _is_const(right):
        return _const(_INT_OPS[symbol](_value(left), _value(right)))
    if _is_const(right):
        divisor = _value(right)
        if divisor == 1:
            return left if symbol == "//" else {}
        if divisor > 0 and all(coefficient % divisor == 0 for key, coefficient in left.items() if key):
            # (divisor * q + r) // divisor = q + r // divisor, and % gives r % divisor: exact for any integer q
            quotient = {key: coefficient // divisor for key, coefficient in left.items() if key}
            remainder = _value(left)
            if symbol == "%":
                return _const(remainder % divisor)
            return _sum(quotient, _const(remainder // divisor))
    if left == right:
        return _const(1) if symbol == "//" else {}
    quotient = _exact(left, right)
    if quotient is not None:
        return quotient if symbol == "//" else {}
    return _atom(f"{_operand(left)}{symbol}{_operand(right)}")


def _exact(left: Poly, right: Poly) -> Poly | None:
    """``left / right`` when ``right`` is one monomial with a positive coefficient that divides every term of
    ``left`` (sizes are positive, so the floor division is exact); None otherwise."""
    if len(right) != 1:
        return None
    (key, divisor), = right.items()
    if divisor <= 0:
        return None
    powers = dict(key)
    result: Poly = {}
    for term, coefficient in left.items():
        mine = dict(term)
        if coefficient % divisor or any(mine.get(atom, 0) < power for atom, power in powers.items()):
            return None
        remaining = {atom: mine[atom] - powers.get(atom, 0) for atom in mine if mine[atom] > powers.get(atom, 0)}
        result[tuple(sorted(remaining.items()))] = coefficient // divisor
    return result


def _operand(poly: Poly) -> str:
    """An operand of // or %: a plain name or a non-negative int as it is, anything else in parentheses."""
    text = str(_text(poly))
    return text if _NAME.match(text) or text.isdigit() else f"({text})"


def _const(value: int) -> Poly:
    return {(): value} if value else {}


def _is_const(poly: Poly) -> bool:
    return all(not key for key in poly)


def _value(poly: Poly) -> int:
    return poly.get((), 0)


def _atom(text: str) -> Poly:
    return {((text, 1),): 1}


def _scale(poly: Poly, factor: int) -> Poly:
    return {key: coefficient * factor for key, coefficient in poly.items() if coefficient * factor}


def _sum(left: Poly, right: Poly) -> Poly:
    result = dict(left)
    for key, coefficient in right.items():
        result[key] = result.get(key, 0) + coefficient
        if not result[key]:
            del result[key]
    return result


def _product(left: Poly, right: Poly) -> Poly:
    result: Poly = {}
    for key_a, a in left.items():
        for key_b, b in right.items():
            powers: dict[str, int] = dict(key_a)
            for atom, power in key_b:
                powers[atom] = powers.get(atom, 0) + power
            key = tuple(sorted(powers.items()))
            result[key] = result.get(key, 0) + a * b
            if not result[key]:
                del result[key]
    return result


def _factor(atom: str, alone: bool) -> str:
    """An atom as a factor: a floor division or modulo in parentheses unless it stands alone in its term
    (``2*((H - 1)//2)``, but ``(H - 1)//2 + 1``), so the text reads back as the same expression in Python."""
    if alone or atom.startswith(("max(", "min(")) or ("//" not in atom and "%" not in atom):
        return atom
    return f"({atom})"


def _text(poly: Poly) -> Dim:
    if _is_const(poly):
        return _value(poly)
    terms = sorted(poly.items(), key=lambda item: (-sum(p for _, p in item[0]), item[0]))
    text = ""
    for key, coefficient in terms:
        magnitude = abs(coefficient)
        alone = len(key) == 1 and key[0][1] == 1 and magnitude == 1 and (text or coefficient > 0)
        factors = [_factor(atom, alone) if power == 1 else "*".join([_factor(atom, False)] * power)
                   for atom, power in key]
        body = "*".join(([str(magnitude)] if magnitude != 1 or not factors else []) + factors)
        if not text:
            text = ("-" if coefficient < 0 else "") + body
        else:
            text += (" - " if coefficient < 0 else " + ") + body
    return text


# relations between sizes: the guards a source derives (a flattened map is 1x1, a length is even) -------------

_RELATIONS = {"==": operator.eq, "!=": operator.ne, "<=": operator.le, ">=": operator.ge, "<": operator.lt,
              ">": operator.gt}
_RELATION = re.compile(r"^(.*?)(==|!=|<=|>=|<|>)(.*)$")


def relation(text: str) -> str:
    """The canonical text of a relation between two sizes, ``"<size> <op> <size>"`` (op one of == != <= >= < >)."""
    match = _RELATION.match(text) if isinstance(text, str) else None
    if match is None or not match[1].strip() or not match[3].strip():
        raise ValidationError(f"guard {text!r}: not a relation of sizes. Expected '<size> <op> <size>' with op one of "
                              f"{list(_RELATIONS)}.")
    return f"{normal(match[1])} {match[2]} {normal(match[3])}"


def split_relation(text: str) -> tuple[Dim, str, Dim]:
    """``(left size, operator, right size)`` of a relation."""
    match = _RELATION.match(relation(text))
    return normal(match[1]), match[2], normal(match[3])


def relation_names(text: str) -> set[str]:
    match = _RELATION.match(text)
    return names(normal(match[1])) | names(normal(match[3]))


def product_equality(text: str) -> bool:
    """Whether a relation says a product of sizes is one number (``16*(H//2 - 1)*(W//2 - 1) == 400``): a flatten
    before a layer of fixed features. Its solutions are scattered, so the sizes it reads are one size in practice
    (a relation such as ``T == S`` or ``H % 2 == 0`` is not one)."""
    match = _RELATION.match(text)
    if match is None or match[2] != "==":
        return False
    sides = [_poly(_parse(str(normal(match[1])))), _poly(_parse(str(normal(match[3]))))]
    if not any(_is_const(side) for side in sides):
        return False
    return any(len(term) > 1 or any(power > 1 for _, power in term) for side in sides for term in side)


def holds(text: str, bindings: Mapping[str, int]) -> bool:
    """Whether a relation holds for the sizes ``bindings`` gives."""
    match = _RELATION.match(text)
    return _RELATIONS[match[2]](evaluate(normal(match[1]), bindings), evaluate(normal(match[3]), bindings))
