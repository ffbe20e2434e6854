"""Edges of the CSV reading (_csv) and of the command line (_cli, __main__) that the
other command-line tests leave out: each an exact message, exit status or output."""

import importlib
import sys

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("skops")

import sk_softmax._cli as cli  # noqa: E402
from sk_softmax._cli import _number, main  # noqa: E402
from sk_softmax._csv import (  # noqa: E402
    CLIError,
    check_output,
    labels,
    make_features,
    numeric_or_text,
    read_table,
    read_text,
)


def run(capsys, *args):
    """``main(args)`` in-process: (exit status, stdout, stderr)."""
    try:
        status = main([str(a) for a in args])
    except SystemExit as exit:  # argparse's usage errors
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


def only_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def numbers_csv(path, n=30, seed=0, ids=False):
    """``[id,]a,b,y``: two number columns and a 0/1 target, not separable."""
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    y = (a + b + rng.standard_normal(n) > 0).astype(int)
    rows = [("id," if ids else "") + "a,b,y"] + [
        (f"r{i:02d}," if ids else "") + f"{a[i]:.3f},{b[i]:.3f},{y[i]}" for i in range(n)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A model fitted with --id id and --cv 0, and its data file."""
    folder = tmp_path_factory.mktemp("edges")
    data = numbers_csv(folder / "train.csv", ids=True)
    path = folder / "model.skops"
    assert main(["fit", str(data), "--target", "y", "--id", "id", "--cv", "0",
                 "--save", str(path)]) == 0
    return path, data


# -- reading the file ------------------------------------------------------------------


def test_bytes_neither_utf8_nor_windows_1252_are_read_as_latin_1(tmp_path):
    """0x81 is undefined in Windows-1252: the last resort, Latin-1, reads every byte."""
    path = tmp_path / "d.csv"
    path.write_bytes(b"name,y\nA\x81\xe9,0\n")
    assert read_text(path) == "name,y\nA\x81\xe9,0\n"


def test_a_huge_number_after_the_sampled_lines_names_the_line(capsys, tmp_path):
    """A field of 140,000 digits (over the csv module's default field limit, which the
    reader lifts to the file's size), past the lines the sniffing reads: the cell's own
    error, naming its line and column."""
    path = numbers_csv(tmp_path / "d.csv", n=250)
    with path.open("a") as handle:
        handle.write("1.0," + "9" * 140_000 + ",1\n")
    status, out, err = run(capsys, "fit", path, "--target", "y")
    assert status == 2 and out == ""
    assert only_line(err) == (f"sk-softmax: error: {path}: line 252, column 'b': inf is "
                              "not a finite number")

def test_unterminated_quote_is_a_one_line_error(capsys, tmp_path):
    """The csv module reads an unterminated quote to the end; pandas refuses it."""
    path = tmp_path / "d.csv"
    path.write_text('a,b,y\n1,2,x\n4,5,"z\n')
    status, _, err = run(capsys, "fit", path, "--target", "y")
    assert status == 2
    assert only_line(err).startswith(f"sk-softmax: error: {path}: not a readable CSV (")


# -- cells -----------------------------------------------------------------------------


def test_true_false_column_is_a_numeric_feature(capsys, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("flag,a,y\n" + "".join(
        f"{['True', 'False'][k % 2]},{k % 7},{k % 3 == 0:d}\n" for k in range(30)))
    table = read_table(path)
    assert table.frame["flag"].dtype == bool
    assert numeric_or_text(table, "flag") == "numeric"
    status, out, err = run(capsys, "fit", path, "--target", "y", "--cv", "0")
    assert status == 0, err
    assert "30 rows, 2 features, 2 classes" in out and "one-hot" not in out


def test_infinite_cell_names_line_column_and_value(capsys, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n1,2,0\n3,inf,1\n5,6,0\n")
    status, _, err = run(capsys, "fit", path, "--target", "y")
    assert status == 2
    assert only_line(err) == (f"sk-softmax: error: {path}: line 3, column 'b': inf is not "
                              "a finite number")


def test_text_column_with_every_cell_missing_is_left_to_the_missing_check(tmp_path):
    """A column read as text in which every cell is missing: 'numeric', so that the
    missing cells are reported (not a mean of no cells)."""
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n,1,0\n?,2,1\n")
    table = read_table(path, text_columns=["a"])
    assert not pd.api.types.is_numeric_dtype(table.frame["a"])
    assert numeric_or_text(table, "a") == "numeric"


def test_stray_text_in_a_decimal_comma_column(capsys, tmp_path):
    """With --decimal ',' (here detected) a comma is a decimal mark: the stray text
    cell is reported, not the commas."""
    path = tmp_path / "d.csv"
    path.write_text("a;b;y\n1,5;2,5;u\nx;1,0;v\n2,5;3,5;u\n3,5;0,5;v\n")
    status, _, err = run(capsys, "fit", path, "--target", "y")
    assert status == 2
    assert only_line(err) == (
        f"sk-softmax: error: {path}: line 3, column 'a': 'x' is not a number (1 such "
        "cell(s) in this column of numbers); fix them, leave them empty, or add "
        "--na-values x if it means missing, or --categorical a")


def test_missing_label_names_its_line(capsys, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,y\n1,u\n2,\n3,v\n4,?\n")
    status, _, err = run(capsys, "fit", path, "--target", "y")
    assert status == 2
    assert only_line(err) == (
        f"sk-softmax: error: {path}: the target column 'y' has 2 missing cell(s), the "
        "first at line 3; fill or remove those rows")


def test_whole_float_labels_become_integers(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,y\n1,0.0\n2,1.0\n3,2.0\n")
    y = labels(read_table(path), "y")
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 2]


def test_single_class_is_refused(capsys, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,y\n1,u\n2,u\n3,u\n")
    status, _, err = run(capsys, "fit", path, "--target", "y")
    assert status == 2
    assert only_line(err) == ("sk-softmax: error: --target 'y' has a single class (u); a "
                              "classifier needs at least two")


def test_no_feature_column_left(capsys, tmp_path):
    path = numbers_csv(tmp_path / "d.csv")
    status, _, err = run(capsys, "fit", path, "--target", "y", "--drop", "a", "b")
    assert status == 2
    assert only_line(err) == (f"sk-softmax: error: {path}: no feature columns left "
                              "besides the target, --id and --drop columns")


def test_only_text_features_have_no_numeric_step():
    features = make_features([], ["colour"], None)
    assert [name for name, *_ in features.transformers] == ["categorical"]
    summary = make_features([], ["colour"], "most_frequent", base_levels=["red"])
    assert [name for name, *_ in summary.transformers] == ["categorical"]


# -- options ---------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--seed", "abc"], "argument --seed: an integer in [0, 2**32); got 'abc'"),
    (["--max-iter", "1.5"], "argument --max-iter: an integer >= 1; got '1.5'"),
    (["--hidden", "4,0"], "argument --hidden: sizes must be >= 1; got '4,0'"),
])
def test_option_values_that_do_not_convert_or_check(capsys, tmp_path, args, message):
    path = numbers_csv(tmp_path / "d.csv")
    status, out, err = run(capsys, "fit", path, "--target", "y", *args)
    assert status == 2 and out == ""
    assert only_line(err) == f"sk-softmax fit: error: {message} (see sk-softmax fit --help)"


def test_hidden_layers_with_the_linear_baseline(capsys, tmp_path):
    path = numbers_csv(tmp_path / "d.csv", n=40)
    status, out, err = run(capsys, "fit", path, "--target", "y", "--hidden", "3,", "--cv",
                           "2", "--compare", "lr", "--max-iter", "50")
    assert status == 0, err
    lines = out.splitlines()
    assert lines[1:3] == ["2-fold cross-validation, alpha=0.0001, seed 0",
                          "(LogisticRegression has no hidden layers: a linear baseline)"]
    assert any(line.startswith("SoftmaxNNClassifier(3,) ") for line in lines)


def test_id_that_is_also_the_target_or_dropped(capsys, tmp_path):
    path = numbers_csv(tmp_path / "d.csv")
    for extra in (["--id", "y"], ["--id", "a", "--drop", "a"]):
        status, _, err = run(capsys, "fit", path, "--target", "y", *extra)
        assert status == 2
        assert only_line(err) == (f"sk-softmax: error: --id {extra[1]!r} is also the "
                                  "--target or a --drop column")


# -- output paths ----------------------------------------------------------------------


def test_check_output_skips_absent_inputs(tmp_path):
    """An input that is None (not given) is skipped; the next one is still checked."""
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("a\n1\n")
    assert check_output(out, "--output", [None, source]) == str(out)
    with pytest.raises(CLIError, match="that is an input file of this command"):
        check_output(source, "--output", [None, source])


def test_output_that_is_a_directory_or_in_no_folder(capsys, model, tmp_path):
    path, data = model
    status, out, err = run(capsys, "predict", path, data, "--output", tmp_path)
    assert status == 2 and out == ""
    assert only_line(err) == f"sk-softmax: error: --output {tmp_path}: is a directory"
    target = tmp_path / "absent" / "p.csv"
    status, _, err = run(capsys, "predict", path, data, "--output", target)
    assert status == 2
    assert only_line(err) == (f"sk-softmax: error: --output {target}: no such folder "
                              f"{tmp_path / 'absent'}")


# -- predict, info, summary ------------------------------------------------------------


def test_predict_without_the_models_id_column_warns(capsys, model, tmp_path):
    path, _ = model
    data = numbers_csv(tmp_path / "new.csv", n=5, seed=1)
    status, out, err = run(capsys, "predict", path, data)
    assert status == 0
    assert err == (f"sk-softmax: warning: {data} has no ID column 'id'; the predictions "
                   "are in row order\n")
    assert out.splitlines()[0] == "prediction" and len(out.splitlines()) == 6


def test_predict_with_a_model_without_id_column(capsys, tmp_path):
    """No --id in fit or predict: the predictions alone, in row order, no warning."""
    data = numbers_csv(tmp_path / "d.csv", n=6)
    path = tmp_path / "m.skops"
    assert run(capsys, "fit", data, "--target", "y", "--cv", "0", "--save", path)[0] == 0
    status, out, err = run(capsys, "predict", path, data, "--proba")
    assert status == 0 and err == ""
    assert out.splitlines()[0] == "0,1" and len(out.splitlines()) == 7


def test_predict_with_an_absent_id_column(capsys, model):
    path, data = model
    status, out, err = run(capsys, "predict", path, data, "--id", "key")
    assert status == 2 and out == ""
    assert only_line(err) == (f"sk-softmax: error: --id 'key': {data} has no such column "
                              "(columns: id, a, b, y)")


def test_predict_on_text_where_the_model_had_numbers(capsys, model, tmp_path):
    path, _ = model
    data = tmp_path / "new.csv"
    data.write_text("id,a,b\nq1,low,1.0\nq2,high,2.0\nq3,low,0.5\n")
    status, out, err = run(capsys, "predict", path, data)
    assert status == 2 and out == ""
    assert only_line(err) == (f"sk-softmax: error: {data}: column 'a' holds text; the "
                              "model was fitted on numbers there")


def test_info_without_cross_validation(capsys, model):
    path, _ = model
    status, out, err = run(capsys, "info", path)
    assert status == 0, err
    assert out.splitlines()[-1] == "cross-validation: none (--cv 0)"


@pytest.mark.parametrize("pipeline", [True, False])
def test_info_of_a_model_file_without_metadata(capsys, tmp_path, pipeline):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sk_softmax import SoftmaxNNClassifier
    from sk_softmax._persist import save_model

    X = pd.DataFrame({"u": [0.0, 1.0, 2.0, 3.0], "v": [1.0, 0.0, 1.0, 0.0]})
    model = SoftmaxNNClassifier()
    model = make_pipeline(StandardScaler(), model) if pipeline else model
    path = tmp_path / "m.skops"
    save_model(model.fit(X, ["no", "yes", "no", "yes"]), path)
    status, out, err = run(capsys, "info", path)
    assert status == 0, err
    steps = "StandardScaler -> SoftmaxNNClassifier" if pipeline else "SoftmaxNNClassifier"
    assert out.splitlines() == [
        f"{path}: {steps}",
        "no metadata (a model file written before sk-softmax recorded it)",
        "features: u, v", "classes: no, yes"]


def test_summary_that_does_not_converge(capsys, tmp_path):
    path = numbers_csv(tmp_path / "d.csv")
    status, out, err = run(capsys, "summary", path, "--target", "y", "--reference-class",
                           "0", "--max-iter", "1")
    assert status == 2 and out == ""
    assert err.strip().splitlines()[-1] == (
        "sk-softmax: error: the maximum-likelihood fit did not converge (separable "
        "classes or collinear features?); no standard errors to report")


def test_zero_is_written_as_0():
    assert [_number(0.0), _number(-0.0, "z"), _number(0.0, "p")] == ["0", "0", "0"]
    assert _number(0.0005) == "5.000e-04"


# -- the process -----------------------------------------------------------------------


def test_closed_pipe_ends_quietly_in_process(capsys, monkeypatch):
    """The reader of stdout went away: exit status 0 and nothing on stderr (standard
    output here cannot be redirected to the null device: that is skipped)."""
    def closed(args):
        print("partial output")
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "info_command", closed)
    status, _, err = run(capsys, "info", "m.skops")
    assert status == 0 and err == ""


def test_importing_the_main_module_runs_nothing(capsys, monkeypatch):
    """Only ``python -m sk_softmax`` runs the command line; an import does not."""
    monkeypatch.setattr(sys, "argv", ["sk_softmax", "--version"])
    monkeypatch.delitem(sys.modules, "sk_softmax.__main__", raising=False)
    module = importlib.import_module("sk_softmax.__main__")
    assert module.main is main
    assert capsys.readouterr() == ("", "")


def test_lines_longer_than_the_csv_field_limit_are_read(tmp_path):
    """Without --sep, a header and rows of 30,000 columns (lines over csv's default
    131,072-character field limit, which each candidate separator that is not the
    file's would make one field): read as the table they are (once 'field larger than
    field limit'), and the duplicate-name check stays linear."""
    path = tmp_path / "wide.csv"
    names = [f"c{k}" for k in range(30_000)]
    rows = [",".join(names)] + [",".join(["1.5"] * 30_000)] * 3
    path.write_text("\n".join(rows) + "\n")
    table = read_table(path)
    assert table.frame.shape == (3, 30_000) and table.sep == ","
    path.write_text("\n".join([",".join(names + ["c7"])] + [",".join(["1"] * 30_001)]))
    with pytest.raises(CLIError, match="names column\\(s\\) 'c7' more than once"):
        read_table(path)

def test_a_tab_in_a_space_separated_file_counts_as_a_separator(tmp_path, capsys):
    """pandas splits a space-separated file on any whitespace: a tab between two cells
    makes a row one field wider than the header, which is refused (not read with the
    cells shifted into the target)."""
    path = tmp_path / "tab.csv"
    path.write_text("a b y\n1\t2 3 x\n4 5 z\n6 7 x\n8 9 z\n")
    status, _, err = run(capsys, "fit", path, "--target", "y", "--cv", "0")
    assert status == 2
    assert only_line(err).startswith(
        f"sk-softmax: error: {path}: line 2 has 4 space-separated fields but the header "
        "(line 1) names 3 columns")
    path.write_text("a b y\n1\t2 x\n4 5 z\n6\t7 x\n8 9 z\n2 1 x\n")  # tabs as separators
    assert read_table(str(path)).frame["y"].tolist() == ["x", "z", "x", "z", "x"]


def test_predict_with_an_id_that_is_a_feature(tmp_path, capsys):
    """--id naming one of the model's numeric features: that column is both the ID
    written first and a feature read as numbers (it used to crash with IndexError)."""
    data = numbers_csv(tmp_path / "d.csv")
    path = tmp_path / "m.skops"
    assert main(["fit", str(data), "--target", "y", "--cv", "0", "--save", str(path)]) == 0
    out = tmp_path / "p.csv"
    status, _, err = run(capsys, "predict", path, data, "--id", "a", "--output", out)
    assert status == 0, err
    written = pd.read_csv(out)
    frame = pd.read_csv(data)
    assert list(written.columns) == ["a", "prediction"]
    assert np.allclose(written["a"], frame["a"])


def test_predict_and_info_on_a_model_without_feature_names(tmp_path, capsys):
    """A model fitted on an array and saved with save_model: info says its features are
    unnamed; predict refuses it in one line (columns cannot be matched by name)."""
    from sk_softmax import SoftmaxNNClassifier
    from sk_softmax._persist import save_model

    X, y = np.random.default_rng(0).standard_normal((40, 2)), np.tile([0, 1], 20)
    path = tmp_path / "bare.skops"
    save_model(SoftmaxNNClassifier().fit(X, y), path)
    status, out, err = run(capsys, "info", path)
    assert status == 0, err
    assert "features: 2, unnamed (fitted on an array)" in out.splitlines()
    data = numbers_csv(tmp_path / "d.csv")
    status, _, err = run(capsys, "predict", path, data, "--output", tmp_path / "p.csv")
    assert status == 2
    assert only_line(err) == (
        f"sk-softmax: error: {path}: the model has no feature names (it was fitted on an "
        "array, not a table), so the CSV's columns cannot be matched to its features: fit "
        "it with sk-softmax fit or on a pandas DataFrame")
    assert not (tmp_path / "p.csv").exists()
