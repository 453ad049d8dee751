"""Messages in the command line's words.

The library's errors speak to Python callers: ``Received: example_inputs=None``, ``Pass overwrite=True (--force)``,
``e.g. transfer(a, b, example_inputs=(1, 3, 32, 32))``. Printed by ``interlayer ...``, each API argument becomes
the flag that sets it, through one table (:data:`FLAGS`): a message raised anywhere below the command line is
translated at the one place that prints it (``cli.main``), so no module needs to know which front it serves.

Only names that mean one thing are translated with their value (``example_inputs``, ``overwrite``...): ``inputs``
and ``weights`` also name a node's inputs and weights, so they are translated only where a message names them
as arguments, bare (``Expected inputs= or ...``) or inside a call (``transfer_file(..., weights='w.pt')``).
"""
from __future__ import annotations

import re
import shlex

FLAGS = {"example_inputs": "--input-shape", "overwrite": "--force", "keep_input_layout": "--keep-input-layout",
         "fail_fast": "--fail-fast", "hints": "--hint", "attr_rtol": "--attr-rtol"}
"""API argument -> the flag that sets it, translated wherever the message names the argument."""
ARGUMENTS = {**FLAGS, "inputs": "--input", "weights": "--weights"}
"""Also translated where a message names the argument as an argument: bare (``weights=``) or in a call."""
VALUES = {"example_inputs=None": "no --input-shape", "overwrite=True": "--force", "overwrite=False": "no --force",
          "verify=False": "--no-verify", "resume=True": "--resume", "resume=False": "no --resume"}
"""Argument=value as the command line says it."""
RULES = {"example_inputs": "--input-shape once per input, e.g. --input-shape 1,3,224,224, or --input specs such as "
                           "--input input_ids:int64[batch,seq]"}
"""An ``Expected ...`` sentence describing what the argument takes is replaced by the rule the command line
follows (the API accepts forms, tensors and specs, that the flag does not)."""
PLACEHOLDERS = {"--weights": "FILE", "--hint": "SRC=DST", "--input": "FILE", "--input-shape": "1,3,224,224"}
"""What a flag takes, where the message shows ``...`` or a Python value the command line cannot give."""

_SENTENCE_END = r"\.(?=\s+[A-Z]|\s*$)"
_NOT_END = r"(?:(?!\.\s+[A-Z]).)"
_VALUE = r"'[^']*'|\"[^\"]*\"|\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}|\.\.\.|[^\s,;()\[\]{}]*[^\s,;:.()\[\]{}]"
_CALL = re.compile(r"\b[A-Za-z_][\w.]*\((?:[^()]|\([^()]*\))*\)")
_KEYWORD = re.compile(rf"\b(\w+)=({_VALUE})")


def cli_words(message: str) -> str:
    """``message`` with the API's argument names as the command line's flags."""
    message = re.sub(r"(--[\w-]+) \((\w+)=[^()\s]*\)", _drop_pair, message)  # "--force (overwrite=True)"
    message = re.sub(r"\b(\w+)=[^()\s]* \((--[\w-]+)\)", _drop_pair, message)  # "overwrite=True (--force)"
    for name, rule in RULES.items():
        described = rf"\b{name}= (?!or\b)"  # "example_inputs= tensors, shapes ...", not "inputs= or example_inputs="
        message = re.sub(rf"Expected {_NOT_END}*?{described}{_NOT_END}*{_SENTENCE_END}", f"Expected {rule}.", message,
                         flags=re.DOTALL)
    message = _CALL.sub(_call, message)
    for text, words in VALUES.items():
        message = re.sub(rf"\b{re.escape(text)}(?!\w)", words, message)
    for name, flag in FLAGS.items():
        message = re.sub(rf"\b{name}=({_VALUE})", lambda match, flag=flag: _flag(flag, match.group(1)), message)
    for name, flag in ARGUMENTS.items():
        message = re.sub(rf"\b{name}=\.\.\.", _flag(flag, "..."), message)
        message = re.sub(rf"\b{name}=(?=[\s,.;:)]|$)", flag, message)
    return message


def _drop_pair(match: re.Match) -> str:
    """A flag with its API spelling beside it, the two one setting: the flag alone."""
    return match.group(1) if match.group(1).startswith("--") else match.group(2)


def _call(match: re.Match) -> str:
    """A Python call naming arguments the command line has flags for: those flags, with their values."""
    text = match.group(0)
    keywords = [(name, value) for name, value in _KEYWORD.findall(text) if name in ARGUMENTS]
    if not keywords:
        return text
    return " ".join(_flag(ARGUMENTS[name], value) for name, value in keywords)


def _flag(flag: str, value: str) -> str:
    """``--flag value`` as typed: a shape as 1,3,224,224, a quoted string unquoted, True as the flag alone, a
    value the command line cannot spell as a placeholder."""
    if value in ("True", "False", "None"):
        return flag if value == "True" else f"no {flag}"
    if re.fullmatch(r"\((\s*\d+\s*,?)+\)", value):
        return f"{flag} " + ",".join(re.findall(r"\d+", value))
    if len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0]:
        return f"{flag} {shlex.quote(value[1:-1])}"
    return f"{flag} {PLACEHOLDERS.get(flag, 'VALUE')}"
