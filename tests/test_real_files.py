"""Real files, round two (issue 22): files written the way real exports are (pandas'
``to_csv``, R's ``write.csv``), read by the command line as their writers meant them;
and the habits a scikit-learn user brings (the CV estimator's ``score``). Each test
names the issue's numbered problem it covers."""

import csv
import re
from pathlib import Path

import numpy as np
import pytest

from sk_softmax._cli import main

pd = pytest.importorskip("pandas")
pytest.importorskip("skops")
tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = Path(__file__).parents[1]


def cli(capsys, *args):
    """``main(args)`` in-process: (exit status, stdout, stderr)."""
    try:
        status = main([str(a) for a in args])
    except SystemExit as exit:  # argparse: --help, usage errors
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


def arthritis(n=84, seed=0):
    """A frame shaped as R's vcd::Arthritis: ID, Treatment, Sex, Age and Improved, whose
    levels are "None", "Some" and "Marked"."""
    rng = np.random.default_rng(seed)
    treated = rng.random(n) < 0.5
    age = rng.integers(23, 75, n)
    score = 1.2 * treated + 0.03 * (age - 50) + rng.logistic(size=n)
    improved = np.where(score < 0.3, "None", np.where(score < 1.3, "Some", "Marked"))
    return pd.DataFrame({"ID": np.arange(1, n + 1),
                         "Treatment": np.where(treated, "Treated", "Placebo"),
                         "Sex": np.where(rng.random(n) < 0.7, "Female", "Male"),
                         "Age": age, "Improved": improved})


def write_r_csv(frame, path, na="NA"):
    """As R's ``write.csv(frame, path, row.names = FALSE)``: every name and text cell
    quoted, numbers bare, missing cells written ``NA``, CRLF on Windows (here LF)."""
    with open(path, "w", newline="") as handle:
        handle.write(",".join(f'"{c}"' for c in frame.columns) + "\n")
        for row in frame.itertuples(index=False):
            cells = [na if pd.isna(v) else (f'"{v}"' if isinstance(v, str) else repr(v))
                     for v in row]
            handle.write(",".join(cells) + "\n")
    return path


# -- 3. missing tokens: exactly the documented list, and an option to add more ------------

def test_r_none_label_is_a_class_not_missing(capsys, tmp_path):
    """3. R's Arthritis data: "None" is a level of the target, not a missing label."""
    path = write_r_csv(arthritis(), tmp_path / "arthritis.csv")
    model = tmp_path / "m.skops"
    status, out, err = cli(capsys, "fit", path, "--target", "Improved", "--drop", "ID",
                           "--cv", "0", "--save", model)
    assert status == 0, err
    status, out, err = cli(capsys, "info", model)
    assert status == 0, err
    assert "classes: Marked, None, Some" in out
    status, out, err = cli(capsys, "predict", model, path)
    assert status == 0, err
    assert set(out.splitlines()[1:]) <= {"Marked", "None", "Some"}


@pytest.mark.parametrize("token", ["None", "NULL", "null", "nan", "NaN", "N/A", "n/a",
                                   "#N/A", "<NA>", "-NaN", "1.#IND"])
def test_pandas_default_tokens_are_text(capsys, tmp_path, token):
    """3. pandas' other default missing tokens are text as written: a label or a level."""
    frame = arthritis(60, seed=1)
    frame["Sex"] = np.where(frame["Sex"] == "Male", token, frame["Sex"])
    frame["Improved"] = np.where(frame["Improved"] == "None", token, frame["Improved"])
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    model = tmp_path / "m.skops"
    status, _, err = cli(capsys, "fit", path, "--target", "Improved", "--drop", "ID",
                         "--cv", "0", "--save", model)
    assert status == 0, err
    from sk_softmax._persist import load_model

    fitted = load_model(model)
    assert token in list(fitted.classes_)
    encoder = fitted[0].named_transformers_["categorical"]
    assert [list(c) for c in encoder.categories_] == [["Placebo", "Treated"],
                                                      sorted(["Female", token])]


def test_na_values_option_and_the_model_file_remembers(capsys, tmp_path):
    """3. --na-values adds tokens (pandas' ``na_rep="NULL"`` export); predict reads the
    file with the tokens the model was fitted with; NA and empty cells stay missing."""
    frame = arthritis(80, seed=2)
    frame["Age"] = frame["Age"].astype(float)
    frame.loc[[3, 17, 40], "Age"] = np.nan
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False, na_rep="NULL")
    status, _, err = cli(capsys, "fit", path, "--target", "Improved", "--drop", "ID",
                         "--cv", "0")
    assert status == 2
    assert ("line 5, column 'Age': 'NULL' is not a number (3 such cell(s) in this column "
            "of numbers); fix them, leave them empty, or add --na-values NULL if it means "
            "missing, or --categorical Age") in err
    model = tmp_path / "m.skops"
    status, _, err = cli(capsys, "fit", path, "--target", "Improved", "--drop", "ID",
                         "--cv", "0", "--na-values", "NULL", "--impute", "median",
                         "--save", model)
    assert status == 0, err
    status, out, _ = cli(capsys, "info", model)
    assert "missing cells: imputed (median) (empty, ?, NA, NULL)" in out
    status, with_tokens, err = cli(capsys, "predict", model, path)
    assert status == 0, err
    # the same file with the missing cells written as R writes them
    r_path = write_r_csv(frame, tmp_path / "r.csv")
    status, r_out, err = cli(capsys, "predict", model, r_path)
    assert status == 0, err
    assert with_tokens == r_out
    # without --impute the tokens are reported as missing cells
    status, _, err = cli(capsys, "fit", path, "--target", "Improved", "--drop", "ID",
                         "--cv", "0", "--na-values", "NULL")
    assert status == 2
    assert "3 missing cell(s) (empty, '?', NA or --na-values), the first at line 5" in err


# -- 11. SoftmaxNNClassifierCV.score as LogisticRegressionCV's ---------------------------

def test_cv_score_is_accuracy_unless_a_scoring_is_given():
    """11. score (and cross_val_score) is the accuracy by default; alpha is still chosen
    by the log-loss; with a scoring, score is that scoring (LogisticRegressionCV)."""
    from sklearn.datasets import load_iris
    from sklearn.metrics import accuracy_score, log_loss
    from sklearn.model_selection import cross_val_score

    from sk_softmax import SoftmaxNNClassifierCV

    X, y = load_iris(return_X_y=True)
    clf = SoftmaxNNClassifierCV(alphas=4, cv=3).fit(X, y)
    assert clf.score(X, y) == accuracy_score(y, clf.predict(X))
    by_loss = SoftmaxNNClassifierCV(alphas=4, cv=3, scoring="neg_log_loss").fit(X, y)
    assert by_loss.alpha_ == clf.alpha_
    np.testing.assert_array_equal(by_loss.scores_, clf.scores_)
    assert by_loss.score(X, y) == pytest.approx(-log_loss(y, clf.predict_proba(X)))
    scores = cross_val_score(SoftmaxNNClassifierCV(alphas=3, cv=3), X, y, cv=3)
    assert np.all((scores > 0.5) & (scores <= 1))


# -- 13. the README's first line, hints that work from a source checkout, help, skips -----

def test_readme_first_command_installs_the_cli_extra():
    """13. The main job's line installs what ``sk-softmax`` needs (the cli extra)."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## On a fresh machine", 1)[1].split("```", 2)[1]
    assert 'pip install -e ".[cli]"' in block
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert {"pandas", "skops"} <= {re.split("[<>=]", d)[0] for d in extras["cli"]}


def test_install_hints_work_from_a_source_checkout():
    """13. No hint names a package index install (``pip install 'sk_softmax[...]'``),
    which no index can satisfy; each says how to install from the checkout."""
    sources = [p for p in (ROOT / "sk_softmax").rglob("*.py")]
    sources += list((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
    for path in sources:
        text = path.read_text()
        assert not re.search(r"pip install ['\"]?sk_softmax\[", text), path
    hints = "".join((ROOT / "sk_softmax" / name).read_text()
                    for name in ("_csv.py", "_persist.py", "_dask.py", "onnx.py"))
    assert hints.count("python -m pip install -e '.[") >= 4


def test_summary_help_describes_what_summary_does(capsys):
    """13. summary's --impute adds no indicator columns, and its help says none."""
    _, fit_help, _ = cli(capsys, "fit", "--help")
    _, summary_help, _ = cli(capsys, "summary", "--help")
    squash = " ".join(summary_help.split())
    assert "indicator" not in squash
    assert "indicator column" in " ".join(fit_help.split())
    assert "--na-values" in squash


def test_skipped_tests_say_why():
    """13. The test run lists each skip with its reason (pytest -rs)."""
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"][
        "ini_options"]["addopts"]
    assert "-rs" in options.split()


def test_csv_writer_quoting_is_read_back(tmp_path):
    """3. A quoted ``"NA"`` is R's text NA written by ``write.csv`` with ``na = ""``;
    the reader treats the documented tokens alike whether quoted or not (as pandas)."""
    from sk_softmax._csv import read_table

    path = tmp_path / "q.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(["a", "y"])
        writer.writerows([[1.5, "None"], [2.5, "NA"], [3.5, ""], [4.5, "x"]])
    frame = read_table(path).frame
    assert frame["y"].tolist()[0] == "None"
    assert frame["y"].isna().tolist() == [False, True, True, False]
