"""The command line, driven in a subprocess on CSV files the tests write."""

import subprocess
import sys
import zipfile

import numpy as np
import pytest
from sklearn.datasets import load_iris

pd = pytest.importorskip("pandas")
pytest.importorskip("skops")


def run(*args, cwd):
    """Run ``python -m sk_softmax ARGS``; return (exit status, stdout, stderr)."""
    done = subprocess.run([sys.executable, "-m", "sk_softmax", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    data = load_iris(as_frame=True)
    frame = data.data.copy()
    frame.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    frame["species"] = np.array(["setosa", "versicolor", "virginica"])[data.target]
    path = folder / "iris.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def saved_model(iris_csv):
    model = iris_csv.parent / "model.skops"
    status, out, err = run("fit", iris_csv, "--target", "species", "--alpha", "0.01",
                           "--cv", "3", "--save", model, cwd=iris_csv.parent)
    assert status == 0, err
    return model, out


def test_fit_compares_with_peers_and_saves(saved_model):
    """fit prints CV accuracy and log-loss for ours and both peers, then saves."""
    model, out = saved_model
    assert model.exists()
    for name in ("SoftmaxNNClassifier", "LogisticRegression", "MLPClassifier"):
        line = next(line for line in out.splitlines() if line.startswith(name))
        accuracy, log_loss = map(float, line.split()[1:3])
        assert 0.85 < accuracy <= 1 and 0 < log_loss < 0.5
    assert "150 rows, 4 features, 3 classes" in out and "saved" in out


def test_predict_round_trip(saved_model, iris_csv, tmp_path):
    """predict writes labels, or one probability column per class named by class,
    identical to the in-memory model's."""
    model, _ = saved_model
    features = pd.read_csv(iris_csv).drop(columns="species")
    features.to_csv(tmp_path / "new.csv", index=False)
    status, out, err = run("predict", model, tmp_path / "new.csv", cwd=tmp_path)
    assert status == 0, err
    labels = pd.read_csv(pd.io.common.StringIO(out))["prediction"]
    assert (labels == pd.read_csv(iris_csv)["species"]).mean() > 0.95
    status, _, err = run("predict", model, tmp_path / "new.csv", "--proba", "--output",
                         tmp_path / "proba.csv", cwd=tmp_path)
    assert status == 0, err
    proba = pd.read_csv(tmp_path / "proba.csv")
    assert list(proba.columns) == ["setosa", "versicolor", "virginica"]
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)
    from sk_softmax._persist import load_model

    loaded = load_model(model)
    # Through CSV text: equal to the last digit or two.
    np.testing.assert_allclose(proba.to_numpy(), loaded.predict_proba(features),
                               rtol=1e-12, atol=1e-15)


def test_summary_prints_the_inference_table(iris_csv, tmp_path):
    """summary fits by maximum likelihood and prints a table per class."""
    frame = pd.read_csv(iris_csv)
    frame = frame[["sepal_length", "sepal_width", "species"]]  # not separable
    frame.to_csv(tmp_path / "sepal.csv", index=False)
    status, out, err = run("summary", tmp_path / "sepal.csv", "--target", "species",
                           "--reference-class", "setosa", cwd=tmp_path)
    assert status == 0, err
    assert "class = setosa: reference class" in out
    assert "class = virginica" in out and "sepal_width" in out and "P>|z|" in out


@pytest.mark.parametrize("case", ["missing file", "empty", "no target", "text column",
                                  "nan cell", "bad hidden", "bad reference"])
def test_bad_input_is_one_line_and_status_2(case, iris_csv, tmp_path):
    """Every bad input: exit status 2 and one line on stderr, never a traceback."""
    frame = pd.read_csv(iris_csv)
    path = tmp_path / "data.csv"
    extra = []
    if case == "empty":
        path.write_text("")
    elif case == "text column":
        frame.assign(colour="red").to_csv(path, index=False)
    elif case == "nan cell":
        frame.assign(sepal_width=frame.sepal_width.where(frame.index != 3)).to_csv(path)
    elif case != "missing file":
        frame.to_csv(path, index=False)
    target = "nope" if case == "no target" else "species"
    if case == "bad hidden":
        extra = ["--hidden", "64,x"]
    if case == "bad reference":
        extra = ["--reference-class", "tulip"]
    status, out, err = run("fit", path, "--target", target, *extra, cwd=tmp_path)
    assert status == 2
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 or case == "bad hidden"  # argparse: usage
    expected = {"missing file": "no such file", "empty": "empty", "no target": "'nope'",
                "text column": "non-numeric feature column(s): colour",
                "nan cell": "sepal_width", "bad hidden": "--hidden",
                "bad reference": "tulip"}[case]
    assert expected in err


def test_predict_with_wrong_columns(saved_model, iris_csv, tmp_path):
    """predict on a CSV whose columns differ from the model's: one line, status 2."""
    model, _ = saved_model
    pd.read_csv(iris_csv).drop(columns=["species", "petal_width"]).to_csv(
        tmp_path / "x.csv", index=False)
    status, _, err = run("predict", model, tmp_path / "x.csv", cwd=tmp_path)
    assert status == 2 and "missing: petal_width" in err and "Traceback" not in err


def test_untrusted_model_file_is_refused(saved_model, tmp_path):
    """A skops file that holds a type a fitted pipeline cannot is refused, unloaded."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True, as_frame=True)
    crafted = tmp_path / "crafted.skops"
    sio.dump(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), crafted)
    status, _, err = run("predict", crafted, "whatever.csv", cwd=tmp_path)
    assert status == 2 and "untrusted" in err and "LogisticRegression" in err
    not_a_model = tmp_path / "junk.skops"
    with zipfile.ZipFile(not_a_model, "w") as archive:
        archive.writestr("schema.json", "{}")
    status, _, err = run("predict", not_a_model, "whatever.csv", cwd=tmp_path)
    assert status == 2 and "Traceback" not in err


def test_help_has_examples(tmp_path):
    """--help lists the commands and worked examples."""
    status, out, _ = run("--help", cwd=tmp_path)
    assert status == 0 and "examples:" in out and "sk-softmax predict" in out


def test_demo_runs_with_progress(tmp_path):
    """No arguments: the digits demo, its table on stdout and progress on stderr."""
    status, out, err = run(cwd=tmp_path)
    assert status == 0, err
    assert "digits: 1797 samples" in out and "MLPClassifier(64,)(lbfgs)" in out
    assert "fold 5/5" in err


def test_skops_round_trip_predicts_identically(tmp_path):
    """save_model then load_model: the same probabilities, bit for bit."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sk_softmax import SoftmaxNNClassifier
    from sk_softmax._persist import load_model, save_model

    X, y = load_iris(return_X_y=True, as_frame=True)
    for hidden in [(), (5,)]:
        model = make_pipeline(StandardScaler(), SoftmaxNNClassifier(
            hidden_layer_sizes=hidden, reference_class=1, random_state=0)).fit(X, y)
        save_model(model, tmp_path / "m.skops")
        loaded = load_model(tmp_path / "m.skops")
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_console_script(tmp_path):
    """The installed console script ``sk-softmax`` is the same command line."""
    import shutil

    script = shutil.which("sk-softmax")
    if script is None:
        pytest.skip("sk-softmax is not installed on PATH")
    done = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "examples:" in done.stdout
