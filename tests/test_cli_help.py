"""The command line explains itself and speaks its own words: every option and argument has help, ``--debug`` is
accepted before or after the command, and the library's errors name flags, not Python arguments."""
from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import pytest

from interlayer.cli import _parser, main
from interlayer.cli_words import ARGUMENTS, FLAGS, cli_words

SRC = Path(__file__).resolve().parent.parent / "src" / "interlayer"


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {"interlayer": parser, **{f"interlayer {name}": sub for name, sub in commands.choices.items()}}


def _described(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    """(the action's name, its help) of every option and positional argument, and of every command listed."""
    found = []
    for action in parser._actions:
        name = "/".join(action.option_strings) or action.metavar or action.dest
        found.append((name, action.help))
        if isinstance(action, argparse._SubParsersAction):
            found += [(choice.dest, choice.help) for choice in action._choices_actions]
    return found


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_option_and_argument_is_explained(command):
    missing = [name for name, text in _described(_commands()[command]) if not (text or "").strip()
               or text == argparse.SUPPRESS]
    assert missing == [], f"{command}: no help text for {missing}"
    assert "usage: " in _commands()[command].format_help()  # argparse formats every text (a stray % would fail)


def test_help_lists_the_commands_and_the_tolerances(capsys):
    with pytest.raises(SystemExit):
        main(["diff", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--attr-rtol RTOL float attributes" in text and "default 1e-05" in text


@pytest.mark.parametrize("argv", [["--debug", "run", "absent.safetensors", "--input", "x.npy"],
                                  ["run", "absent.safetensors", "--input", "x.npy", "--debug"],
                                  ["run", "--debug", "absent.safetensors", "--input", "x.npy"]],
                         ids=["before-the-command", "at-the-end", "among-the-arguments"])
def test_debug_is_accepted_anywhere(argv):
    args = _parser().parse_args(argv)
    assert args.debug is True and args.command == "run"


def test_without_debug_it_is_off():
    assert _parser().parse_args(["run", "a.safetensors", "--input", "x.npy"]).debug is False


def test_debug_after_the_command_shows_the_traceback(monkeypatch):
    import interlayer.api

    def broken(path):
        raise RuntimeError("an unforeseen fault")

    monkeypatch.setattr(interlayer.api, "load", broken)
    assert main(["run", "a.safetensors", "--input", "x.npy"]) == 3
    with pytest.raises(RuntimeError, match="an unforeseen fault"):
        main(["run", "a.safetensors", "--input", "x.npy", "--debug"])


def test_a_factory_without_input_shape_is_told_the_flag(capsys):
    assert main(["inspect", "interlayer.examples:lenet5"]) == 2
    err = capsys.readouterr().err
    assert ("Expected --input-shape once per input, e.g. --input-shape 1,3,224,224, or --input specs such as "
            "--input input_ids:int64[batch,seq]. Received: no --input-shape.") in err
    assert "example_inputs" not in err and "interlayer.export" not in err


@pytest.mark.parametrize("message, words", [
    ("torch frontend: Net needs example inputs. Expected example_inputs= tensors, shapes such as (1, 3, 224, 224), "
     "or input specs such as 'ids:int64[batch,seq]'. Received: example_inputs=None.",
     "torch frontend: Net needs example inputs. Expected --input-shape once per input, e.g. --input-shape "
     "1,3,224,224, or --input specs such as --input input_ids:int64[batch,seq]. Received: no --input-shape."),
    ("convert: the output 'm.keras' exists. Pass --force (overwrite=True) to replace it.",
     "convert: the output 'm.keras' exists. Pass --force to replace it."),
    ("drawing 'g.svg': the file exists. Pass overwrite=True (--force) to replace it.",
     "drawing 'g.svg': the file exists. Pass --force to replace it."),
    ("verify: the target does not say them. Expected inputs= or example_inputs=. Received: neither.",
     "verify: the target does not say them. Expected --input or --input-shape. Received: neither."),
    ("transfer: Received: example_inputs=None. Pass them, e.g. transfer(a, b, example_inputs=(1, 3, 32, 32)).",
     "transfer: Received: no --input-shape. Pass them, e.g. --input-shape 1,3,32,32."),
    ("transfer: Pin pairs with hints={'a': 'b'}, or pass the architecture (weights=...).",
     "transfer: Pin pairs with --hint SRC=DST, or pass the architecture (--weights FILE)."),
    ("batch: Pass --resume (resume=True) to keep them, or --force (overwrite=True).",
     "batch: Pass --resume to keep them, or --force."),
    ("transfer: Received: verify=False, keep_input_layout=True.",
     "transfer: Received: --no-verify, --keep-input-layout."),
], ids=["missing-input-shape", "flag-then-argument", "argument-then-flag", "bare-arguments", "call",
        "placeholders", "batch-flags", "values"])
def test_api_words_become_flags(message, words):
    assert cli_words(message) == words


@pytest.mark.parametrize("message", [
    "onnx frontend: node 'c' (Cast): to=7 is not supported. Received: inputs=3, weights=['w'].",
    "diff: atol must be a finite number >= 0. Received: atol=-1.0.",
    "torch frontend: 1 layer(s) cannot be converted. Register a converter with interlayer.register(...).",
], ids=["a-node's-inputs-and-weights", "same-name-as-the-flag", "no-argument"])
def test_other_words_are_left_alone(message):
    assert cli_words(message) == message


def _messages() -> list[tuple[str, str]]:
    """Every string literal of the library (f-strings with their fields as X) naming an API argument the command
    line has a flag for: (where, text)."""
    pattern = re.compile(r"\b(" + "|".join(FLAGS) + r")=")
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name in ("cli.py", "cli_words.py"):
            continue
        tree = ast.parse(path.read_text(), str(path))
        parts = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
        for node in ast.walk(tree):
            if id(node) in parts:
                continue
            if isinstance(node, ast.JoinedStr):
                text = "".join(part.value if isinstance(part, ast.Constant) else "X" for part in node.values)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            else:
                continue
            if pattern.search(text) and not text.lstrip().startswith(("``", "\n")) and " " in text:
                found.append((f"{path.relative_to(SRC)}:{node.lineno}", text))
    return found


def test_every_message_naming_an_api_argument_is_translated():
    """A guard for messages written later: whatever names example_inputs=, overwrite= ... comes out in flags."""
    pattern = re.compile(r"\b(" + "|".join(ARGUMENTS) + r")=")
    untranslated = [(where, cli_words(text)) for where, text in _messages() if pattern.search(cli_words(text))]
    assert untranslated == []
