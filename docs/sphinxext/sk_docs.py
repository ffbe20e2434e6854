"""Sphinx helpers of the sk_softmax documentation.

- ``.. sk-softmax-cli-reference::`` writes the command-line reference from the argparse
  parser itself (``sk_softmax._cli.build_parser()``): one section per command, one
  ``option`` entry per argument, so nothing is copied by hand.
- ``.. cli-session::`` runs ``$ sk-softmax ...`` (and ``head``/``cat``) lines in a
  scratch folder while the page is read and shows what they printed: the outputs in the
  guide are those of a real run of the version being documented. A command whose exit
  status is not the expected one (``# exit 2`` at the end of its line; 0 otherwise) is
  a build warning, hence an error under ``-W``.
- ``reset_argv`` gives the gallery's scripts a scratch folder for the PNG they save
  (sphinx-gallery takes the pictures from the open figures), so a build writes nothing
  into the source tree but ``auto_examples/``.
- After reading, every name of ``sk_softmax.__all__`` and ``sk_softmax.onnx.__all__``
  and every sub-command must have a reference entry; a missing one is a warning.
"""

import argparse
import contextlib
import io
import os
import re
import runpy
import shlex
import tempfile
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

logger = logging.getLogger(__name__)

_SCRATCH = {}


def _scratch(name):
    """A scratch folder per name, alive for the whole build."""
    if name not in _SCRATCH:
        _SCRATCH[name] = tempfile.TemporaryDirectory(prefix=f"sk-docs-{name}-")
    return Path(_SCRATCH[name].name)


def reset_argv(gallery_conf, script_vars):
    """sphinx-gallery's ``reset_argv``: the folder each example writes its PNG into."""
    return [str(_scratch("gallery-pictures"))]


# --------------------------------------------------------------------------------------
# Command-line reference from the argparse parser


def _escape(text):
    for char in "\\*`|_":
        text = text.replace(char, "\\" + char)
    return text


def _subcommands(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            return [(name, sub, helps.get(name, "")) for name, sub in action.choices.items()]
    return []


def _option_lines(parser, program):
    formatter = parser._get_formatter()
    lines = [f".. program:: {program}", ""]
    for group in parser._action_groups:
        actions = [a for a in group._group_actions
                   if not isinstance(a, argparse._SubParsersAction)]
        if not actions:
            continue
        lines += [f".. rubric:: {group.title.capitalize()}", ""]
        for action in actions:
            signature = formatter._format_action_invocation(action)
            lines += [f".. option:: {signature}", ""]
            help_text = (action.help or "").strip()
            if action.help == argparse.SUPPRESS:
                continue
            if help_text and "%(" in help_text:
                help_text = help_text % {"prog": parser.prog, "default": action.default}
            extra = []
            if action.required and action.option_strings:
                extra.append("required")
            if action.choices and not isinstance(action, argparse._SubParsersAction):
                extra.append("one of " + ", ".join(f"``{c}``" for c in action.choices))
            default = action.default
            if (action.option_strings and default not in (None, False, [], (),
                                                          argparse.SUPPRESS)
                    and "default" not in help_text):
                extra.append(f"default: ``{default}``")
            parts = ([_escape(help_text).rstrip(".")] if help_text else []) + extra
            body = "; ".join(parts) or "(no description)"
            lines += ["   " + body[:1].upper() + body[1:] + ".", ""]
    return lines


class CLIReference(SphinxDirective):
    """The reference of ``sk-softmax`` and of each of its commands."""

    has_content = False

    def run(self):
        from sk_softmax._cli import build_parser

        parser = build_parser()
        prog = parser.prog
        lines = [
            parser.description or "", "",
            ".. code-block:: text", "",
            *("   " + line for line in parser.format_usage().rstrip().splitlines()), "",
        ]
        lines += _option_lines(parser, prog)
        lines += ["Examples, as ``sk-softmax --help`` prints them:", "",
                  ".. code-block:: text", ""]
        lines += ["   " + line if line else "" for line in parser.epilog.rstrip().splitlines()]
        lines.append("")
        for name, sub, help_text in _subcommands(parser):
            title = f"{prog} {name}"
            lines += [f".. _cli-{name}:", "", title, "-" * len(title), "",
                      _escape(help_text[:1].upper() + help_text[1:]) + ".", "",
                      ".. code-block:: text", ""]
            lines += ["   " + line for line in sub.format_usage().rstrip().splitlines()]
            lines.append("")
            lines += _option_lines(sub, title)
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, "<sk-softmax parser>"), node)
        return node.children


# --------------------------------------------------------------------------------------
# Real command-line runs


class _StderrFilter(io.TextIOBase):
    """stderr of an in-process run: the ``sk-softmax:`` lines (errors, warnings) go into
    the transcript; progress lines are left out, as a terminal overwrites them."""

    def __init__(self, out):
        self.out, self.partial = out, ""

    def write(self, text):
        self.partial += text
        *lines, self.partial = self.partial.split("\n")
        for line in lines:
            line = line.rsplit("\r", 1)[-1]
            if line.startswith("sk-softmax:"):
                self.out.write(line + "\n")
        return len(text)

    def isatty(self):
        return False


def _run(command, cwd):
    """Run one transcript line in ``cwd``; return ``(exit status, printed text)``."""
    from sk_softmax._cli import main

    words = shlex.split(command)
    if words[:3] == ["python", "-m", "sk_softmax"]:
        words = ["sk-softmax", *words[3:]]
    out = io.StringIO()
    if words[0] in ("head", "cat"):
        lines = Path(cwd, words[-1]).read_text(encoding="utf-8").splitlines(True)
        if words[0] == "head":
            lines = lines[:int(words[1].lstrip("-")) if len(words) > 2 else 10]
        return 0, "".join(lines)
    if words[0] != "sk-softmax":
        raise ValueError("cli-session runs sk-softmax (or python -m sk_softmax), head "
                         f"and cat, not {words[0]!r}")
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(_StderrFilter(out)):
            try:
                status = main(words[1:])
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None
                                                                     else 1)
    finally:
        os.chdir(previous)
    return status, out.getvalue()


def _wrapped(command, width=88):
    """A long command shown on several lines, continued with backslashes."""
    units = []
    for word in map(shlex.quote, shlex.split(command)):
        if units and units[-1].startswith("-") and " " not in units[-1] \
                and not word.startswith("-"):
            units[-1] += " " + word  # an option with its value stays on one line
        else:
            units.append(word)
    lines, line = [], ""
    for word in units:
        if line and len(line) + len(word) + 3 > width:
            lines.append(line)
            line = "    " + word
        else:
            line = f"{line} {word}" if line else word
    return " \\\n".join([*lines, line])


class CLISession(SphinxDirective):
    """Run the ``$ ...`` lines of the content and show them with their output."""

    has_content = True
    option_spec = {"session": directives.unchanged, "setup": directives.unchanged,
                   "hide": directives.flag}

    def run(self):
        cwd = _scratch("session-" + self.options.get("session", self.env.docname))
        if "setup" in self.options:
            script = Path(self.env.srcdir, self.options["setup"])
            self.env.note_dependency(str(script))
            previous = os.getcwd()
            os.chdir(cwd)
            try:
                runpy.run_path(str(script), run_name="__main__")
            finally:
                os.chdir(previous)
        transcript = []
        for line in self.content:
            if not line.startswith("$ "):
                continue
            command, _, expect = line[2:].partition("# exit ")
            command = command.strip()
            expected = int(expect) if expect.strip() else 0
            status, printed = _run(command, cwd)
            if status != expected:
                logger.warning(f"cli-session: {command!r} exited {status}, expected "
                               f"{expected}:\n{printed}", location=self.get_location())
            transcript.append(f"$ {_wrapped(command)}\n{printed}")
        if "hide" in self.options:
            return []
        text = "".join(transcript).rstrip("\n")
        block = nodes.literal_block(text, text, language="console")
        return [block]


# --------------------------------------------------------------------------------------
# Every public name has a reference entry


def check_reference(app, env):
    import sk_softmax
    import sk_softmax.onnx
    from sk_softmax._cli import build_parser

    objects = env.get_domain("py").objects
    expected = [f"sk_softmax.{name}" for name in sk_softmax.__all__]
    expected += [f"sk_softmax.onnx.{name}" for name in sk_softmax.onnx.__all__]
    for name in expected:
        if name not in objects:
            logger.warning(f"the API reference has no entry for {name}")
    programs = {program for program, _ in env.get_domain("std").progoptions}
    for name, _, _ in _subcommands(build_parser()):
        if f"sk-softmax-{name}" not in programs:  # the std domain joins words by "-"
            logger.warning(f"the command-line reference has no entry for sk-softmax {name}")


def skip_member(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated ``set_*_request`` methods (metadata routing):
    their docstrings point into scikit-learn's own documentation."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


_SHAPE_NAME = re.compile(r"\(([A-Za-z]\w*_),\)")


def quote_shape_names(app, what, name, obj, options, lines):
    """``(n_features_in_,)`` in a docstring's type is a reST link to an undefined target
    (an error under ``-W``); scikit-learn writes ``(`n_features_in_`,)``. Until the
    docstrings do, quote such names here, before numpydoc reads the lines."""
    lines[:] = [_SHAPE_NAME.sub(r"(`\1`,)", line) for line in lines]


def setup(app):
    app.connect("autodoc-skip-member", skip_member)
    app.connect("autodoc-process-docstring", quote_shape_names, priority=100)
    app.add_directive("sk-softmax-cli-reference", CLIReference)
    app.add_directive("cli-session", CLISession)
    app.connect("env-check-consistency", check_reference)
    return {"version": "1", "parallel_read_safe": False, "parallel_write_safe": True}
