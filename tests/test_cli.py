"""The command line on CSV files the tests write: in-process through ``main([...])``,
and in a subprocess for the console script and a closed pipe.

Problem numbers refer to the command-line issue (files that broke ``sk-softmax``).
"""

import os
import re
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris

from sk_softmax import SoftmaxNNClassifier
from sk_softmax._cli import build_parser, main

pd = pytest.importorskip("pandas")
pytest.importorskip("skops")

SKLEARN_DATA = Path(__import__("sklearn.datasets").datasets.__file__).parent / "data"


def cli(capsys, *args):
    """Run ``main(args)`` in-process; return (exit status, stdout, stderr)."""
    try:
        status = main([str(a) for a in args])
    except SystemExit as exit:  # argparse: --help, --version, usage errors
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


def first_error(err):
    """The first line of stderr, which must be the only one."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def iris_frame():
    data = load_iris(as_frame=True)
    frame = data.data.copy()
    frame.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    frame["species"] = np.array(["setosa", "versicolor", "virginica"])[data.target]
    return frame


def messy_frame(n=150, seed=0):
    """iris with an ID, a text feature (party) and the target."""
    frame = iris_frame()
    rng = np.random.default_rng(seed)
    frame.insert(0, "id", [f"r{i:03d}" for i in range(len(frame))])
    frame["party"] = rng.choice(["strong Rep", "weak Dem", "independent"], len(frame))
    return frame


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def iris_csv(folder):
    path = folder / "iris.csv"
    iris_frame().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def messy_csv(folder):
    path = folder / "messy.csv"
    messy_frame().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def saved_model(messy_csv, folder):
    """A model fitted with an ID column and a text feature (in-process)."""
    model = folder / "model.skops"
    status = main(["fit", str(messy_csv), "--target", "species", "--id", "id", "--cv", "3",
                   "--alpha", "0.01", "--save", str(model)])
    assert status == 0
    return model


# -- 1. a header with fewer names than the rows have fields -------------------------


@pytest.mark.parametrize("name, fields, names", [("wine_data.csv", 14, 5),
                                                 ("breast_cancer.csv", 31, 4)])
def test_sklearn_files_with_short_header_are_refused(capsys, name, fields, names):
    """scikit-learn's own files: the rows have more fields than the header has names;
    before, pandas moved them into the index and fit ran on 4 features."""
    status, out, err = cli(capsys, "fit", SKLEARN_DATA / name, "--target", "class_0")
    assert status == 2 and out == ""
    assert first_error(err).endswith(
        f"{name}: line 2 has {fields} comma-separated fields but the header (line 1) "
        f"names {names} columns; the header is short of names (the extra fields would be "
        "dropped): write one name per column")


def test_row_width_mismatch_names_the_line(capsys, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n1,2,x\n3,4,z\n\n5,6,x,7\n")
    status, _, err = cli(capsys, "fit", path, "--target", "y")
    assert status == 2 and "line 5 has 4 comma-separated fields" in first_error(err)
    path.write_text("a,b,y\n1,2,x\n3,z\n")
    status, _, err = cli(capsys, "fit", path, "--target", "y")
    assert status == 2 and "line 3 has 2 comma-separated fields" in first_error(err)


def test_trailing_separators_and_an_unnamed_index_column(capsys, tmp_path):
    """Excel's trailing separators are ignored; pandas' unnamed index column is named,
    with a warning saying how to drop it."""
    path = tmp_path / "d.csv"
    path.write_text("\n\na,b,y,\n1,2,x,\n3,4,z,\n5,6,x,\n7,3,z,\n")
    status, out, err = cli(capsys, "fit", path, "--target", "y", "--cv", "0")
    assert status == 0 and "4 rows, 2 features" in out, err
    iris_frame().to_csv(path)  # with the index, under an empty name
    status, out, err = cli(capsys, "fit", path, "--target", "species", "--cv", "0")
    assert status == 0 and "150 rows, 5 features" in out
    assert "column 1 has no name in the header; it is called 'unnamed1'" in err
    status, out, err = cli(capsys, "fit", path, "--target", "species", "--cv", "0",
                           "--drop", "unnamed1")
    assert status == 0 and "150 rows, 4 features" in out


# -- 2. separators, decimal commas, BOM ----------------------------------------------


@pytest.mark.parametrize("kind", ["tab", "semicolon", "space", "pipe", "decimal comma",
                                  "bom crlf", "quoted names"])
def test_separators_decimals_and_bom_are_detected(capsys, tmp_path, kind):
    """Every dialect is read into the same numbers as the comma file."""
    frame = iris_frame()
    path = tmp_path / "d.csv"
    sep = {"tab": "\t", "semicolon": ";", "space": " ", "pipe": "|"}.get(kind, ",")
    if kind == "decimal comma":
        frame.to_csv(path, sep=";", decimal=",", index=False)
    elif kind == "bom crlf":
        frame.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    elif kind == "quoted names":  # statsmodels' anes96.csv: 'vote' in single quotes
        text = frame.to_csv(sep="\t", index=False)
        header, rest = text.split("\n", 1)
        path.write_text("\t".join(f"'{n}'" for n in header.split("\t")) + "\n" + rest)
    else:
        frame.to_csv(path, sep=sep, index=False)
    from sk_softmax._csv import read_table

    table = read_table(path)
    pd.testing.assert_frame_equal(table.frame, frame, check_dtype=False)
    status, out, err = cli(capsys, "fit", path, "--target", "species", "--cv", "0")
    assert status == 0, err
    assert out.startswith(f"{path}: 150 rows, 4 features, 3 classes")


def test_statsmodels_anes96_tab_file(capsys):
    """The real statsmodels file (tab-separated, quoted names): before, 'no column vote'."""
    sm_data = pytest.importorskip("statsmodels.datasets.anes96")
    path = Path(sm_data.__file__).parent / "anes96.csv"
    status, out, err = cli(capsys, "fit", path, "--target", "vote", "--cv", "2")
    assert status == 0, err
    assert "944 rows, 9 features, 2 classes (tab-separated)" in out


def test_explicit_sep_and_decimal(capsys, tmp_path):
    path = tmp_path / "d.txt"
    iris_frame().to_csv(path, sep="#", decimal=",", index=False)
    status, out, err = cli(capsys, "fit", path, "--target", "species", "--cv", "0",
                           "--sep", "#", "--decimal", ",")
    assert status == 0, err
    status, _, err = cli(capsys, "fit", path, "--target", "species", "--sep", "tabs")
    assert status == 2 and "argument --sep" in first_error(err)


# -- 3. text features, missing and bad cells -----------------------------------------


def test_text_column_is_one_hot_encoded(capsys, messy_csv):
    status, out, err = cli(capsys, "fit", messy_csv, "--target", "species", "--id", "id",
                           "--cv", "3")
    assert status == 0, err
    assert "150 rows, 5 features, 3 classes" in out
    assert "one-hot encoded: party (3 values)" in out
    assert "(23 iterations, 7 inputs)" in out or ", 7 inputs)" in out


def test_identifier_like_text_column_needs_id_or_drop(capsys, messy_csv):
    status, _, err = cli(capsys, "fit", messy_csv, "--target", "species")
    assert status == 2
    assert "column 'id' has 150 distinct text values in 150 rows" in first_error(err)
    status, _, err = cli(capsys, "fit", messy_csv, "--target", "species", "--drop", "id",
                         "--cv", "0")
    assert status == 0, err


@pytest.mark.parametrize("cell", ["", "?", "NA"])
def test_missing_cell_names_line_and_column_with_hint(capsys, tmp_path, cell):
    frame = messy_frame().astype({"sepal_width": str})
    frame.loc[6, "sepal_width"] = cell
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    status, out, err = cli(capsys, "fit", path, "--target", "species", "--id", "id")
    assert status == 2 and out == ""
    assert first_error(err).startswith(
        f"sk-softmax: error: {path}: 1 missing cell(s) (empty, '?', NA or --na-values), "
        "the first at line 8, column 'sepal_width'")
    assert "--impute median" in err


def test_impute_adds_indicator_and_predicts_on_missing(capsys, tmp_path):
    frame = messy_frame()
    frame.loc[[3, 9], "sepal_width"] = np.nan
    frame.loc[5, "party"] = np.nan
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    model = tmp_path / "m.skops"
    status, out, err = cli(capsys, "fit", path, "--target", "species", "--id", "id",
                           "--impute", "median", "--cv", "0", "--save", model)
    assert status == 0, err
    assert "imputed: 3 missing cell(s) (median, with indicator columns)" in out
    # 4 numeric + 1 indicator + 3 parties + "(missing)"
    assert ", 9 inputs)" in out
    status, out, err = cli(capsys, "predict", model, path)
    assert status == 0, err
    assert len(pd.read_csv(pd.io.common.StringIO(out))) == 150


def test_non_number_cell_names_line_column_and_value(capsys, tmp_path):
    frame = iris_frame().astype({"petal_length": str})
    frame.loc[41, "petal_length"] = "1.4.2"
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    status, _, err = cli(capsys, "fit", path, "--target", "species")
    assert status == 2
    assert first_error(err).startswith(
        f"sk-softmax: error: {path}: line 43, column 'petal_length': '1.4.2' is not a number")


def test_decimal_comma_in_comma_file_is_explained(capsys, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('a,b,y\n"1,5",2,x\n"2,5",3,z\n"0,5",1,x\n"3,0",2,z\n')
    status, _, err = cli(capsys, "fit", path, "--target", "y", "--cv", "0")
    assert status == 2 and "has a decimal comma; add --decimal ','" in first_error(err)


# -- 4. the comparison: --compare, and a large file ----------------------------------


@pytest.mark.parametrize("compare, peers", [("none", []), ("lr", ["LogisticRegression"]),
                                            ("mlp", ["MLPClassifier"])])
def test_compare_chooses_the_peers(capsys, iris_csv, compare, peers):
    status, out, err = cli(capsys, "fit", iris_csv, "--target", "species", "--cv", "3",
                           "--compare", compare)
    assert status == 0, err
    assert "SoftmaxNNClassifier()" in out
    for name in ("LogisticRegression", "MLPClassifier"):
        assert (name in out) == (name in peers)


def test_default_fit_of_a_large_file_is_quick(capsys, tmp_path):
    """20k rows x 20 features: the default fit (5-fold CV beside LogisticRegression,
    no MLPClassifier) with a progress line; before, over 200 s."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 20))
    y = (X @ rng.standard_normal((20, 4)) + rng.gumbel(size=(20_000, 4))).argmax(1)
    path = tmp_path / "large.csv"
    pd.DataFrame(X, columns=[f"x{j}" for j in range(20)]).assign(y=y).to_csv(
        path, index=False)
    status, out, err = cli(capsys, "fit", path, "--target", "y")
    assert status == 0, err
    assert "20000 rows, 20 features, 4 classes" in out and "MLPClassifier" not in out
    assert "cross-validating SoftmaxNNClassifier(): fold 5/5" in err


# -- 5. option errors ----------------------------------------------------------------


def test_alpha_zero_works(capsys, iris_csv):
    """--alpha 0: before, ZeroDivisionError (C=1/alpha) and exit 1."""
    status, out, err = cli(capsys, "fit", iris_csv, "--target", "species", "--alpha", "0",
                           "--cv", "3")
    assert status == 0, err
    assert "LogisticRegression(C=inf)" in out


@pytest.mark.parametrize("args, option", [
    (["--alpha", "-1"], "argument --alpha"), (["--alpha", "nan"], "argument --alpha"),
    (["--cv", "1"], "argument --cv"), (["--max-iter", "0"], "argument --max-iter"),
    (["--hidden", "64,x"], "argument --hidden"), (["--seed", "-1"], "argument --seed"),
    (["--compare", "svm"], "argument --compare"),
    (["--class-weight", "setosa:x"], "argument --class-weight"),
    (["--class-weight", "tulip:2"], "--class-weight 'tulip' is not one of the labels"),
    (["--reference-class", "tulip"], "--reference-class 'tulip' is not one of the labels"),
    (["--drop", "nope"], "--drop 'nope':"), (["--id", "nope"], "--id 'nope':"),
    (["--categorical", "nope"], "--categorical 'nope':"),
])
def test_every_argument_error_names_its_option(capsys, iris_csv, args, option):
    """One line naming the option, nothing on stdout (no table header first)."""
    status, out, err = cli(capsys, "fit", iris_csv, "--target", "species", *args)
    assert status == 2 and out == ""
    assert option in first_error(err)


def test_missing_target_suggests_a_column(capsys, iris_csv):
    status, out, err = cli(capsys, "fit", iris_csv, "--target", "Species")
    assert status == 2 and out == ""
    assert "--target 'Species': " in first_error(err) and "did you mean 'species'?" in err


def test_continuous_target_is_refused_before_output(capsys, iris_csv):
    status, out, err = cli(capsys, "fit", iris_csv, "--target", "sepal_length")
    assert status == 2 and out == ""  # before: "35 classes" then sklearn's error
    assert first_error(err).startswith(
        "sk-softmax: error: --target 'sepal_length' holds 35 distinct non-integer numbers")


# -- 6. predict: columns by name, the ID column in the output ------------------------


def test_predict_ignores_extra_columns_and_writes_the_id(capsys, saved_model, messy_csv,
                                                         tmp_path):
    """The data with its target and ID (columns in another order): before, refused."""
    frame = pd.read_csv(messy_csv)
    frame = frame[list(reversed(frame.columns))].assign(note="x")
    path = tmp_path / "new.csv"
    frame.to_csv(path, index=False)
    status, out, err = cli(capsys, "predict", saved_model, path)
    assert status == 0, err
    result = pd.read_csv(pd.io.common.StringIO(out))
    assert list(result.columns) == ["id", "prediction"]
    assert (result["id"] == frame["id"]).all()
    assert (result["prediction"] == frame["species"]).mean() > 0.9
    status, out, err = cli(capsys, "predict", saved_model, path, "--proba")
    proba = pd.read_csv(pd.io.common.StringIO(out))
    assert list(proba.columns) == ["id", "setosa", "versicolor", "virginica"]
    from sk_softmax._persist import load_model

    expected = load_model(saved_model).predict_proba(frame.drop(columns=["species"]))
    np.testing.assert_allclose(proba.iloc[:, 1:].to_numpy(), expected, rtol=1e-12)


def test_predict_names_missing_features_and_unseen_categories_are_ignored(
        capsys, saved_model, messy_csv, tmp_path):
    frame = pd.read_csv(messy_csv)
    path = tmp_path / "x.csv"
    frame.drop(columns=["petal_width"]).to_csv(path, index=False)
    status, _, err = cli(capsys, "predict", saved_model, path)
    assert status == 2
    assert "lacks the model's feature column(s) petal_width" in first_error(err)
    frame.assign(party="green").to_csv(path, index=False)
    status, _, err = cli(capsys, "predict", saved_model, path)
    assert status == 0, err


def test_predict_keeps_id_text_and_explains_missing_cells(capsys, tmp_path):
    frame = iris_frame()
    frame.insert(0, "key", [f"{i:05d}" for i in range(len(frame))])  # leading zeros
    path, model = tmp_path / "d.csv", tmp_path / "m.skops"
    frame.to_csv(path, index=False)
    status, _, err = cli(capsys, "fit", path, "--target", "species", "--id", "key", "--cv",
                         "0", "--save", model)
    assert status == 0, err
    status, out, err = cli(capsys, "predict", model, path)
    assert status == 0 and out.startswith("key,prediction\n00000,setosa\n"), err
    frame.loc[2, "petal_width"] = np.nan
    frame.to_csv(path, index=False)
    status, _, err = cli(capsys, "predict", model, path)
    assert status == 2 and first_error(err).endswith(
        "line 4, column 'petal_width'; missing per column: petal_width (1); fill them, "
        "or refit the model with --impute median (or most_frequent)")


# -- 7. output files -------------------------------------------------------------------


def test_outputs_never_replace_an_input(capsys, saved_model, messy_csv, tmp_path):
    data = tmp_path / "d.csv"
    data.write_bytes(messy_csv.read_bytes())
    before = data.read_bytes()
    status, _, err = cli(capsys, "predict", saved_model, data, "--output", data, "--force")
    assert status == 2 and "--output" in first_error(err) and "input file" in err
    status, _, err = cli(capsys, "predict", saved_model, data, "--output", saved_model)
    assert status == 2 and "input file" in first_error(err)
    status, _, err = cli(capsys, "fit", data, "--target", "species", "--save", data,
                         "--force")
    assert status == 2 and "--save" in first_error(err) and "input file" in err
    link = tmp_path / "link.csv"
    link.symlink_to(data)
    status, _, err = cli(capsys, "fit", link, "--target", "species", "--save",
                         tmp_path / "." / "d.csv")
    assert status == 2 and "input file" in first_error(err)
    assert data.read_bytes() == before


def test_existing_output_needs_force_and_symlinks_are_refused(capsys, saved_model,
                                                              messy_csv, tmp_path):
    out_csv = tmp_path / "out.csv"
    out_csv.write_text("keep me\n")
    status, _, err = cli(capsys, "predict", saved_model, messy_csv, "--output", out_csv)
    assert status == 2 and "exists; add --force" in first_error(err)
    assert out_csv.read_text() == "keep me\n"
    status, _, err = cli(capsys, "predict", saved_model, messy_csv, "--output", out_csv,
                         "--force")
    assert status == 0 and out_csv.read_text().startswith("id,prediction")
    link = tmp_path / "link.csv"
    link.symlink_to(out_csv)
    status, _, err = cli(capsys, "predict", saved_model, messy_csv, "--output", link,
                         "--force")
    assert status == 2 and "symbolic link" in first_error(err)
    status, _, err = cli(capsys, "fit", messy_csv, "--target", "species", "--id", "id",
                         "--save", saved_model)
    assert status == 2 and "--save" in first_error(err) and "--force" in err


def test_interrupted_write_leaves_no_file(tmp_path):
    from sk_softmax._csv import write_atomic

    target = tmp_path / "out.csv"

    def half(handle):
        handle.write("id,prediction\n1,")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, half)
    assert list(tmp_path.iterdir()) == []
    write_atomic(target, lambda handle: handle.write("a\n"))
    assert target.read_text() == "a\n" and oct(target.stat().st_mode & 0o777) != "0o600"


# -- 8. the summary table ------------------------------------------------------------


def test_summary_columns_never_run_together(capsys, tmp_path):
    """Large and tiny coefficients: every row splits into the header's columns,
    no -0.0000, scientific notation where needed; --odds-ratios adds exp(coef)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    y = (X @ rng.standard_normal((3, 3)) + rng.gumbel(size=(300, 3))).argmax(1)
    frame = pd.DataFrame(X * [1e-4, 1, 1e4], columns=["tiny", "unit", "huge"])
    frame["species"] = np.array(["setosa", "versicolor", "virginica"])[y]
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    status, out, err = cli(capsys, "summary", path, "--target", "species",
                           "--reference-class", "setosa", "--odds-ratios")
    assert status == 0, err
    assert "class = setosa: reference class" in out and "-0.0000" not in out
    tables = [block.splitlines()[1:] for block in out.split("\n\n") if "P>|z|" in block]
    assert len(tables) == 2
    for header, rule, *rows in tables:
        assert header.split()[:5] == ["coef", "std", "err", "z", "P>|z|"]
        assert "odds ratio" in header and set(rule) == {"-"}
        for row in rows:
            assert len(row.split()) == 10  # term and nine numbers, never merged
            assert not re.search(r"\d-\d", row.replace("e-", "e"))
    assert re.search(r"e\+0\d|e-0\d", out)


def test_summary_of_raw_columns_equals_statsmodels(capsys, tmp_path):
    """Years, incomes and a 1e6 offset as shipped (the command no longer standardises
    by hand: the estimator preconditions): the printed estimates and standard errors
    are statsmodels' MNLogit on the same columns."""
    sm = pytest.importorskip("statsmodels.api")
    from conftest import raw_columns

    X, y = raw_columns(400)
    names = ["income", "year", "count", "share", "tiny", "large"]
    frame = pd.DataFrame(X, columns=names).assign(label=np.array(["a", "b", "c"])[y])
    path = tmp_path / "raw.csv"
    frame.to_csv(path, index=False, float_format="%.17g")
    status, out, err = cli(capsys, "summary", path, "--target", "label",
                           "--reference-class", "a")
    assert status == 0, err
    with warnings.catch_warnings():  # its Newton on a 1e6 offset stalls near 1e-8
        warnings.simplefilter("ignore")
        theirs = sm.MNLogit(y, sm.add_constant(X)).fit(method="newton", tol=1e-8,
                                                       maxiter=100, disp=False)
    params, bse = np.asarray(theirs.params), np.asarray(theirs.bse)
    for k, block in enumerate(out.split("\n\n")[2:]):  # classes b and c
        rows = {line.split()[0]: line.split() for line in block.splitlines()[3:]}
        for j, term in enumerate(["intercept"] + names):
            coef, err = float(rows[term][1]), float(rows[term][2])
            # printed to 4 decimals (or 4 significant digits in scientific notation)
            assert coef == pytest.approx(params[j, k], rel=2e-3, abs=6e-5)
            assert err == pytest.approx(bse[j, k], rel=2e-3, abs=6e-5)


def test_summary_with_a_text_column_and_one_line_errors(capsys, tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.standard_normal(400),
                          "party": rng.choice(["strong Rep", "weak Dem", "indep"], 400)})
    logit = frame.x + frame.party.map({"strong Rep": 1, "weak Dem": -1, "indep": 0})
    frame["vote"] = np.where(logit + rng.logistic(size=400) > 0, "Dole", "Clinton")
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    status, out, err = cli(capsys, "summary", path, "--target", "vote",
                           "--reference-class", "Clinton")
    assert status == 0, err
    base = frame.party.mode()[0]
    assert f"relative to the most frequent level: party = {base}" in out
    levels = {"strong Rep", "weak Dem", "indep"} - {base}
    assert all(f"party_{level} " in out for level in levels)
    assert "class = Dole (against Clinton)" in out
    status, out, err = cli(capsys, "summary", path, "--target", "vote",
                           "--reference-class", "Dole")  # two classes: the same table
    assert status == 0 and "class = Dole (against Clinton)" in out
    assert "reference class" not in out
    status, _, err = cli(capsys, "summary", path, "--target", "vote",
                         "--reference-class", "tulip")
    assert status == 2 and "--reference-class 'tulip'" in first_error(err)


def test_summary_of_separated_classes_warns_on_stderr(capsys, iris_csv):
    status, out, err = cli(capsys, "summary", iris_csv, "--target", "species",
                           "--reference-class", "setosa")
    assert "sk-softmax: warning: " in err and "separated" in err
    assert "Traceback" not in err and (status == 0 or len(err.strip().splitlines()) == 2)


# -- 9. the binary comparison uses the matching C ------------------------------------


@pytest.mark.parametrize("reference, C", [(None, "0.4"), ("versicolor", "0.2")])
def test_binary_comparison_matches_logistic_regression(capsys, tmp_path, reference, C):
    frame = iris_frame()
    frame = frame[frame.species != "setosa"]
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    extra = ["--reference-class", reference] if reference else []
    status, out, err = cli(capsys, "fit", path, "--target", "species", "--alpha", "5",
                           "--cv", "3", *extra)
    assert status == 0, err
    rows = {line.split()[0]: line.split()[1:3] for line in out.splitlines()
            if line.startswith(("Softmax", "Logistic"))}
    assert f"LogisticRegression(C={C})" in rows
    ours, theirs = rows["SoftmaxNNClassifier()"], rows[f"LogisticRegression(C={C})"]
    # The same objective: the same log-loss up to LogisticRegression's tolerance
    # (with C=1/alpha for the symmetric model: 0.234 against 0.186).
    assert ours[0] == theirs[0] and abs(float(ours[1]) - float(theirs[1])) < 1e-3


# -- 10. warnings, pipes, versions, options, single-row classes ----------------------


def test_convergence_warning_reaches_stderr(capsys, iris_csv):
    status, _, err = cli(capsys, "fit", iris_csv, "--target", "species", "--max-iter", "2",
                         "--cv", "0")
    assert status == 0
    assert "sk-softmax: warning: ConvergenceWarning:" in err


def test_version_seed_class_weight_and_default_alpha(capsys, iris_csv):
    from sk_softmax import SoftmaxNNClassifier, __version__

    status, out, _ = cli(capsys, "--version")
    assert status == 0 and out.startswith(f"sk-softmax {__version__}")
    fit_args = build_parser().parse_args(["fit", "d.csv", "--target", "y"])
    assert fit_args.alpha == SoftmaxNNClassifier().alpha
    status, out, err = cli(capsys, "fit", iris_csv, "--target", "species", "--seed", "3",
                           "--class-weight", "setosa:2,virginica:0.5", "--cv", "3")
    assert status == 0, err
    assert "seed 3" in out
    status, _, err = cli(capsys, "fit", iris_csv, "--target", "species",
                         "--class-weight", "balanced", "--cv", "0")
    assert status == 0, err


def test_single_row_class(capsys, iris_csv, tmp_path):
    """Before: a message about y_true labels. Now: one line naming --cv; --cv 0 fits."""
    frame = pd.read_csv(iris_csv)
    frame.loc[0, "species"] = "rare"
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    status, out, err = cli(capsys, "fit", path, "--target", "species")
    assert status == 2 and out == ""
    assert first_error(err).startswith(
        "sk-softmax: error: class rare of --target 'species' has 1 row(s), fewer than the "
        "5 cross-validation folds (--cv 5); use --cv 0")
    status, out, err = cli(capsys, "fit", path, "--target", "species", "--cv", "0")
    assert status == 0, err
    assert "4 classes" in out


def test_closed_pipe_ends_quietly(saved_model, tmp_path):
    """predict | head: no 'Broken pipe' message, exit status 0 (a subprocess)."""
    frame = pd.concat([messy_frame()] * 100, ignore_index=True)
    path = tmp_path / "many.csv"
    frame.to_csv(path, index=False)
    process = subprocess.Popen([sys.executable, "-m", "sk_softmax", "predict", saved_model,
                                path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline() == b"id,prediction" + os.linesep.encode()
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0 and err == b""


# -- the model file --------------------------------------------------------------------


def test_info_prints_what_the_model_file_records(capsys, saved_model, messy_csv):
    from sk_softmax._persist import load_metadata

    meta = load_metadata(saved_model)
    assert meta["feature_names"] == ["sepal_length", "sepal_width", "petal_length",
                                     "petal_width", "party"]
    assert meta["classes"] == ["setosa", "versicolor", "virginica"]
    assert meta["id_column"] == "id" and meta["categorical"] == ["party"]
    assert set(meta["cv_scores"]) == {"SoftmaxNNClassifier()", "LogisticRegression(C=100)"}
    status, out, err = cli(capsys, "info", saved_model)
    assert status == 0, err
    assert f"command line: sk-softmax fit {messy_csv} --target species --id id" in out
    assert "one-hot encoded party" in out and "cross-validation (3 folds, 150 rows):" in out


def test_export_writes_onnx_once(capsys, saved_model, tmp_path):
    """sk-softmax export (README, ONNX section): written once, replaced only with --force."""
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("skl2onnx")
    out = tmp_path / "m.onnx"
    status, stdout, err = cli(capsys, "export", saved_model, out)
    assert status == 0, err
    assert stdout == f"wrote {out}\n"
    assert {i.name for i in onnx.load(out).graph.input} >= {"sepal_length", "party"}
    status, _, err = cli(capsys, "export", saved_model, out)
    assert status == 2 and "exists; add --force" in first_error(err)
    status, _, err = cli(capsys, "export", saved_model, saved_model, "--force")
    assert status == 2 and "input file" in first_error(err)


def test_untrusted_model_file_is_refused(capsys, tmp_path):
    """A skops file holding a type a fitted pipeline cannot hold is refused, unloaded."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True, as_frame=True)
    crafted = tmp_path / "crafted.skops"
    sio.dump(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), crafted)
    status, _, err = cli(capsys, "predict", crafted, "whatever.csv")
    assert status == 2 and "LogisticRegression" in first_error(err)
    not_a_model = tmp_path / "junk.skops"
    with zipfile.ZipFile(not_a_model, "w") as archive:
        archive.writestr("schema.json", "{}")
    status, _, err = cli(capsys, "info", not_a_model)
    assert status == 2 and first_error(err)


def test_help_has_examples(capsys):
    status, out, _ = cli(capsys, "--help")
    assert status == 0 and "examples:" in out and "sk-softmax predict" in out
    status, out, _ = cli(capsys, "fit", "--help")
    assert status == 0 and "--compare" in out and "--impute" in out


def test_demo_runs_with_progress(capsys, monkeypatch):
    """No arguments: the digits demo, its table on stdout and progress on stderr."""
    from sk_softmax import _demo

    monkeypatch.setattr(_demo, "load_digits", lambda return_X_y: (
        load_iris(return_X_y=True)[0].repeat(2, axis=0),
        load_iris(return_X_y=True)[1].repeat(2)))
    status, out, err = cli(capsys)
    assert status == 0, err
    assert "digits: 300 samples" in out and "MLPClassifier(64,)(lbfgs)" in out
    assert "fold 5/5" in err


def test_console_script(saved_model, messy_csv):
    """The installed console script ``sk-softmax`` is the same command line."""
    import shutil

    # pip puts the script beside the interpreter (a virtual environment's bin/, which
    # need not be on PATH when the tests run as venv/bin/python -m pytest).
    script = (shutil.which("sk-softmax", path=os.path.dirname(sys.executable))
              or shutil.which("sk-softmax"))
    assert script is not None, "sk-softmax is not installed: pip install -e '.[test]'"
    done = subprocess.run([script, "predict", saved_model, messy_csv],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("id,prediction\nr000,setosa\n")


def test_summary_margins(capsys, tmp_path):
    """summary --margins prints the average marginal effects after the table, equal to
    the library's marginal_effects on the same fit."""
    data = load_iris(as_frame=True)
    frame = pd.DataFrame({"sl": data.data.iloc[:, 0],
                          "species": np.array(["setosa", "versicolor", "virginica"])[
                              data.target]})
    path = tmp_path / "iris_sl.csv"
    frame.to_csv(path, index=False)
    status, out, err = cli(capsys, "summary", path, "--target", "species",
                           "--reference-class", "setosa", "--margins")
    assert status == 0, err
    margins_text = out.split("Marginal effects", 1)[1]
    setosa_line = margins_text.split("class = setosa", 1)[1].splitlines()[3]
    X = frame[["sl"]]
    model = SoftmaxNNClassifier(alpha=0, reference_class="setosa", solver="trust-ncg",
                                tol=1e-10).fit(X, frame["species"].to_numpy())
    expected = model.inference(X, frame["species"].to_numpy()).marginal_effects()
    assert float(setosa_line.split()[1]) == pytest.approx(expected.effects[0, 0], rel=1e-4)
