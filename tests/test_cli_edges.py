"""Edges of the command line: python -m, unreadable and odd files, a missing pandas,
an interrupted run, terminal progress; each an exit status and one line of stderr."""

import runpy
import sys

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("skops")

from sk_softmax._cli import _progress, main  # noqa: E402


def run(capsys, *args):
    try:
        status = main([str(a) for a in args])
    except SystemExit as exit:
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


def test_python_dash_m_runs_main(monkeypatch, capsys):
    """``python -m sk_softmax --version``: __main__ calls main and exits with its status."""
    monkeypatch.setattr(sys, "argv", ["sk_softmax", "--version"])
    with pytest.raises(SystemExit) as exit:
        runpy.run_module("sk_softmax", run_name="__main__")
    assert exit.value.code == 0 and "sk-softmax" in capsys.readouterr().out


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such file"),
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_bytes(b"a,b\x00\x01\n1,2\n"), "binary file"),
    (lambda p: p.write_text("  \n\n"), "the file is empty"),
    (lambda p: p.write_text("a,b,y\n"), "no data rows"),
    (lambda p: p.write_text("a,a,y\n1,2,0\n3,4,1\n"), "more than once"),
    (lambda p: p.write_text("a;b;y\n1,5;2;0\n"), "both ','"),
])
def test_unreadable_files(tmp_path, capsys, make, message):
    path = tmp_path / "data.csv"
    make(path)
    extra = ["--decimal", ","] if message == "both ','" else []
    status, _, err = run(capsys, "fit", path, "--target", "y", "--sep", ",", *extra)
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1


def test_windows_1252_file_is_read(tmp_path, capsys):
    """A file that is not UTF-8 (Excel on Windows) is read as Windows-1252."""
    rng = np.random.default_rng(0)
    levels = ["a\xe9", "b"]
    rows = ["caf\xe9,x,y"] + [f"{levels[k % 2]},{v:.3f},{k % 2}"
                              for k, v in enumerate(rng.standard_normal(40))]
    path = tmp_path / "latin.csv"
    path.write_bytes("\n".join(rows).encode("cp1252"))
    status, out, err = run(capsys, "fit", path, "--target", "y", "--cv", "0")
    assert status == 0, err
    assert "café" in out


def test_missing_pandas_is_one_line(tmp_path, capsys, monkeypatch):
    path = tmp_path / "d.csv"
    path.write_text("a,y\n1,0\n2,1\n")
    monkeypatch.setitem(sys.modules, "pandas", None)
    status, _, err = run(capsys, "fit", path, "--target", "y")
    assert status == 2 and "python -m pip install -e '.[cli]'" in err


def test_keyboard_interrupt_exits_130(tmp_path, capsys, monkeypatch):
    import sk_softmax._cli as cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "info_command", interrupted)
    status, _, err = run(capsys, "info", tmp_path / "m.skops")
    assert status == 130 and err.strip() == "sk-softmax: interrupted"


def test_progress_overwrites_one_line_on_a_terminal(monkeypatch):
    class Terminal:
        def __init__(self):
            self.text = ""

        def isatty(self):
            return True

        def write(self, text):
            self.text += text

        def flush(self):
            pass

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    _progress("fold 1/5")
    _progress("")
    assert terminal.text == "\r\033[Kfold 1/5\r\033[K"
