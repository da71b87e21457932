"""docs/guide.md cannot rot: every ``console`` block in it is run, and prints what it quotes.

A ``console`` block is ``$ COMMAND`` and the output the guide quotes for it. COMMAND is
``python examples/guide_*.py [ARGS]`` (the example's ``main(ARGS)`` runs in this process) or
``rnnkit shapes [ARGS]`` (the CLI's ``main``). Every ``examples/guide_*.py`` must be quoted at
least once, so no example goes untested.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guide.md"
BLOCK = re.compile(r"^```console\n\$ (?P<command>[^\n]+)\n(?P<output>.*?)^```$", re.M | re.S)


def guide_blocks() -> list[tuple[str, str]]:
    return [(m["command"], m["output"]) for m in BLOCK.finditer(GUIDE.read_text("utf-8"))]


def run(command: str) -> str:
    """What ``command`` prints, run in this process."""
    words = shlex.split(command)
    out = io.StringIO()
    if words[0] == "python":
        path = ROOT / words[1]
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        with contextlib.redirect_stdout(out):
            module.main(words[2:])
    elif words[0] == "rnnkit":
        from rnnkit.cli import main as rnnkit_main

        with contextlib.redirect_stdout(out):
            assert rnnkit_main(words[1:]) == 0
    else:
        raise AssertionError(f"docs/guide.md: a console block runs {words[0]!r}; expected "
                             "'python examples/...' or 'rnnkit ...'")
    return out.getvalue()


def normalised(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").splitlines()]


def test_the_guide_quotes_every_guide_example():
    quoted = {shlex.split(command)[1] for command, _ in guide_blocks()
              if command.startswith("python ")}
    examples = {f"examples/{p.name}" for p in (ROOT / "examples").glob("guide_*.py")}
    assert examples, "no examples/guide_*.py"
    assert examples <= quoted, f"examples the guide never runs: {sorted(examples - quoted)}"


@pytest.mark.parametrize("command, quoted", [pytest.param(c, o, id=c) for c, o in guide_blocks()])
def test_a_guide_block_prints_what_the_guide_quotes(command, quoted, one_thread):
    assert normalised(run(command)) == normalised(quoted), f"$ {command}"
