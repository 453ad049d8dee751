"""Size expressions: one canonical text per size, read back as the same expression, evaluated with any number type."""
from __future__ import annotations

import itertools

import pytest

from interlayer.errors import ValidationError
from interlayer.ir import dims

CANONICAL = [
    ("N*T", "N*T"),
    ("T*N", "N*T"),
    ("(H-1)//2+1", "(H - 1)//2 + 1"),
    ("(H + 2 - 3)//2 + 1", "(H - 1)//2 + 1"),
    ("T+1-1", "T"),
    ("2*(N+1)", "2*N + 2"),
    ("(4*T)//2", "2*T"),
    ("(N*T)//T", "N"),
    ("(2*N*T + 4*T)//(2*T)", "N + 2"),
    ("(N*T)%T", 0),
    ("max(T, 3)", "max(3, T)"),
    ("max(3, 5)", 5),
    ("N - N", 0),
    ("(T+1)*(T-1)", "T*T - 1"),
    ("2*((H-1)//2)", "2*((H - 1)//2)"),
    ("-((H-1)//2)", "-((H - 1)//2)"),
    ("T%4", "T%4"),
    ("H//1", "H"),
    ("(120*(H//4) - 720)*((W//4) - 6)", "120*(H//4)*(W//4) - 720*(H//4) - 720*(W//4) + 4320"),
    ("7", 7),
]


@pytest.mark.parametrize("text, expected", CANONICAL, ids=[text for text, _ in CANONICAL])
def test_canonical_form(text, expected):
    assert dims.normal(text) == expected


@pytest.mark.parametrize("text", [text for text, _ in CANONICAL], ids=[text for text, _ in CANONICAL])
def test_canonical_text_reads_back_as_the_same_expression(text):
    """The canonical text is valid Python over the names, equal to the original at every size, and canonical."""
    canonical = dims.normal(text)
    for n, t, h in itertools.product([1, 2, 7], [1, 4, 9], [1, 5, 8, 30]):
        bound = {"N": n, "T": t, "H": h, "W": t + h}
        assert dims.evaluate(canonical, bound) == dims.evaluate(text, bound)
        assert eval(str(canonical), {"max": max, "min": min}, bound) == dims.evaluate(text, bound)
    assert dims.normal(str(canonical)) == canonical


def test_arithmetic_keeps_ints_plain_and_expressions_canonical():
    assert dims.mul(3, 4) == 12
    assert dims.mul("T", "N") == "N*T"
    assert dims.add("T", 1) == "T + 1"
    assert dims.sub("T", "T") == 0
    assert dims.floordiv("H", 2) == "H//2"
    assert dims.product(["N", 4, "T"]) == "4*N*T"
    assert dims.total(["T", "T", 1]) == "2*T + 1"
    assert dims.equal("N*T", "T*N") and not dims.equal("N", "T")


def test_names_and_plain_names():
    assert dims.names("max(N*T, H)") == {"N", "T", "H"}
    assert dims.names(5) == set()
    assert dims.is_name("N") and not dims.is_name("N*T") and not dims.is_name(3) and not dims.is_name("max")


def test_evaluate_with_other_number_types():
    """The backends evaluate sizes as their own size tensors: every operation goes through the table given."""
    calls = []

    def record(symbol):
        def apply(a, b):
            calls.append(symbol)
            return {"+": a + b, "*": a * b, "//": a // b, "-": a - b}[symbol]
        return apply

    table = {symbol: record(symbol) for symbol in ("+", "*", "//", "-")}
    assert dims.evaluate("(H - 1)//2 + 1", {"H": 9}, table) == 5
    assert calls == ["-", "//", "+"]


@pytest.mark.parametrize("text", ["x.y", "f(1)", "1.5", "a**2", "", "T//0", "max(1)", "True", "lambda: 1", "-"])
def test_anything_else_is_refused(text):
    with pytest.raises(ValidationError):
        dims.normal(text)


def test_unbound_names_are_named():
    with pytest.raises(ValidationError, match=r"no value for \['T'\]"):
        dims.evaluate("N*T", {"N": 2})


@pytest.mark.parametrize("value", [True, 1.0, None, [1]])
def test_only_ints_and_text_are_dimensions(value):
    with pytest.raises(ValidationError):
        dims.normal(value)
