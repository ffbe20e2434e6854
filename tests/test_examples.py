"""Every example script runs (Agg backend) and writes its picture."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("plot_*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_example_writes_its_png(script, tmp_path):
    """The script exits 0 and leaves a non-empty PNG in the folder it is given."""
    env = dict(os.environ, MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    pictures = list(tmp_path.glob("*.png"))
    assert len(pictures) == 1 and pictures[0].stat().st_size > 10_000
    assert pictures[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_there_are_four_examples():
    assert len(EXAMPLES) == 4
