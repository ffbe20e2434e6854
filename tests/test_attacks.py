"""Trust, round two: paths, model files, outputs and statistics under attack. One test (or
more) per defect found, each failing on the code before its fix; the attack files are
made here, under tmp paths (FIFOs, never a real device node)."""

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest
from conftest import make_problem
from numpy.testing import assert_allclose, assert_array_equal
from tampered import Model

from sk_softmax import SeparationWarning, SoftmaxNNClassifier, SoftmaxNNClassifierCV

pd = pytest.importorskip("pandas")
pytest.importorskip("skops")

from sk_softmax._cli import main  # noqa: E402
from sk_softmax._csv import CLIError, check_output, read_text  # noqa: E402
from sk_softmax._files import atomic_path  # noqa: E402
from sk_softmax._persist import load_model, save_model  # noqa: E402

fifo_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")


def cli(capsys, *args):
    try:
        status = main([str(a) for a in args])
    except SystemExit as exit:
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def csv_file(tmp_path):
    X, y = make_problem(n_samples=80, n_features=3, seed=3)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(
        id=[f"r{k}" for k in range(80)], y=np.array(["p", "q", "r"])[y])
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def model_file(tmp_path, csv_file, capsys):
    path = tmp_path / "m.skops"
    assert main(["fit", str(csv_file), "--target", "y", "--id", "id", "--cv", "0",
                 "--save", str(path)]) == 0
    capsys.readouterr()
    return path


# ------------------------------------------------------------ 1. outputs, not devices
@fifo_only
def test_outputs_never_replace_a_fifo_even_with_force(capsys, tmp_path, csv_file,
                                                      model_file):
    """--save and --output with --force onto a FIFO (as onto /dev/null, which a root
    run once replaced with a regular file): refused, the FIFO left as it was."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    status, _, err = cli(capsys, "fit", csv_file, "--target", "y", "--id", "id", "--cv", "0",
                         "--save", fifo, "--force")
    assert status == 2 and "is not a regular file" in err
    status, _, err = cli(capsys, "predict", model_file, csv_file, "--output", fifo,
                         "--force")
    assert status == 2 and "is not a regular file" in err and "or -" in err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with pytest.raises(OSError, match="refusing to replace it"):
        with atomic_path(fifo):
            pass
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_output_dash_is_the_standard_output(capsys, csv_file, model_file):
    status, out, err = cli(capsys, "predict", model_file, csv_file, "--output", "-")
    assert status == 0, err
    assert out.splitlines()[0] == "id,prediction" and len(out.splitlines()) == 81


def test_check_output_refuses_any_non_regular_file(tmp_path, monkeypatch):
    """A character device (mode faked: tests make no device nodes)."""
    target = tmp_path / "dev"
    target.write_text("")
    real_stat = os.stat

    def fake_stat(path, *args, **kwargs):
        result = real_stat(path, *args, **kwargs)
        if os.fspath(path) == os.fspath(target):
            return os.stat_result((stat.S_IFCHR | 0o666,) + tuple(result)[1:])
        return result

    monkeypatch.setattr(os, "stat", fake_stat)
    with pytest.raises(CLIError, match="is not a regular file"):
        check_output(target, "--save", force=True)


# ----------------------------------------------------- 2. model files amplify memory
def test_every_reference_to_an_array_counts_against_the_budget(tmp_path, monkeypatch):
    """Sixteen schema nodes naming one member (each with its own __id__): skops reads
    it sixteen times, so the budget counts sixteen (a 72 KB file once took a load to
    2.3 GB, and was accepted)."""
    import sk_softmax._persist as persist

    X, y = make_problem(n_samples=40, n_features=2, seed=1)
    path = tmp_path / "m.skops"
    save_model(SoftmaxNNClassifier().fit(pd.DataFrame(X, columns=["a", "b"]), y), path)
    m = Model(path)
    coefs = m.schema["content"]["content"]["coefs_"]["content"]
    member = coefs[0]["file"]
    size = len(m.members[member])
    coefs += [dict(coefs[0], __id__=10_000 + k) for k in range(15)]
    tampered = m.write(tmp_path / "refs.skops")
    monkeypatch.setattr(persist, "MAX_ARRAY_BYTES", 10 * size)  # the member: within it
    with pytest.raises(ValueError, match=r"the schema's \d+ array references total "
                                         r"\d+ bytes \(limit"):
        load_model(tampered)
    load_model(path)  # one reference: loads


# ------------------------------------------------------------- 3. bounded inputs
@fifo_only
def test_fifo_inputs_are_refused_without_blocking(capsys, tmp_path, model_file):
    fifo = tmp_path / "in.csv"
    os.mkfifo(fifo)
    status, _, err = cli(capsys, "predict", model_file, fifo)
    assert status == 2 and "is not a regular file (a FIFO, a device or a socket)" in err
    status, _, err = cli(capsys, "info", fifo)
    assert status == 2 and "is not a regular file" in err


def test_large_input_is_refused_before_it_is_read(tmp_path, monkeypatch):
    """A sparse file larger than the cap (as /dev/zero or a 2 GB hole once filled the
    memory): refused from its size, nothing read."""
    import sk_softmax._csv as csv_module

    path = tmp_path / "big.csv"
    with open(path, "wb") as handle:
        handle.truncate(4096)
    monkeypatch.setattr(csv_module, "MAX_CSV_BYTES", 1024)
    reads = []
    monkeypatch.setattr("builtins.open", lambda *a, **k: reads.append(a) or 1 / 0)
    with pytest.raises(CLIError, match="larger than the 0 GiB"):
        read_text(path)
    assert not reads


# ---------------------------------------------- 4. a signal during --save leaves nothing
@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name == "nt", reason="POSIX")
@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_termination_during_an_atomic_write_removes_the_temporary(tmp_path, name):
    """SIGTERM or SIGHUP while the command writes a file (its temporary file exists):
    the command line's handlers raise, the temporary file is removed, the target never
    appears, and the exit status is 128 + the signal."""
    script = textwrap.dedent(f"""
        import os, signal, sys
        from sk_softmax._cli import terminations_raise, _Terminated
        from sk_softmax._files import atomic_path
        try:
            with terminations_raise():
                with atomic_path({str(tmp_path / 'out.skops')!r}) as tmp:
                    open(tmp, "w").write("x" * 1000)
                    os.kill(os.getpid(), signal.{name})
        except _Terminated as exc:
            sys.exit(128 + exc.signum)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 128 + getattr(signal, name), done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_handlers_are_restored_after_the_command(capsys):
    before = signal.getsignal(signal.SIGTERM)
    cli(capsys, "--version")
    assert signal.getsignal(signal.SIGTERM) is before


# ---------------------------------------------------------- 5. hostile sizes
def test_a_network_too_large_for_the_machine_is_refused_before_any_work(capsys, csv_file):
    status, out, err = cli(capsys, "fit", csv_file, "--target", "y", "--id", "id", "--cv",
                           "0", "--hidden", "100000000,100000000")
    assert status == 2 and "needs about" in err and "Use fewer hidden units" in err
    assert "Traceback" not in err


def test_memory_errors_are_one_line(capsys, csv_file, monkeypatch):
    import sk_softmax._cli as cli_module

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(cli_module, "check_memory", exhausted)
    status, _, err = cli(capsys, "fit", csv_file, "--target", "y", "--id", "id", "--cv", "0")
    assert status == 2 and err.startswith("sk-softmax: error: out of memory")


# ------------------------------------------------------- 6. separation, per class
def _intervals():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 3, 150)
    return np.c_[x, rng.standard_normal(150)], np.digitize(x, [1, 2])


def test_every_separated_class_is_found():
    """Three classes that are intervals of one column: every class is separated from
    the reference; no statistic is reported (one was once std err 15,701, p = 0.99)."""
    X, y = _intervals()
    model = SoftmaxNNClassifier(alpha=0.0, reference_class=0, max_iter=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    with pytest.warns(SeparationWarning, match="class 1: .*class 2: "):
        result = model.inference(X, y)
    assert_array_equal(result.separated, [1, 2])
    assert np.isnan(result.std_err_coef[1:, 0]).all()


def test_a_dummy_of_one_class_diverges_alone():
    """A dummy that is 1 in some of class 2's rows only: its coefficients diverge, and
    only they; every other coefficient keeps a finite standard error, as Stata reports
    them (once class 1's statistics were all NaN). The others are those of the fit
    without the dummy and its rows."""
    X, y = make_problem(n_samples=400, n_features=2, n_classes=3, seed=2)
    dummy = ((y == 2) & (np.arange(400) % 3 == 0)).astype(float)
    Xd = np.c_[X, dummy]
    model = SoftmaxNNClassifier(alpha=0.0, reference_class=0, solver="trust-ncg",
                                tol=1e-8, max_iter=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(Xd, y)
    with pytest.warns(SeparationWarning, match="'x2'") as record:
        result = model.inference(Xd, y)
    assert "'x0'" not in str(record[0].message)
    # class 2's dummy coefficient grows, class 1's falls (P(class 1 | dummy) -> 0)
    assert np.isnan(result.std_err_coef[1:, 2]).all()
    assert np.isfinite(result.std_err_coef[1:, :2]).all()
    assert np.isfinite(result.std_err_intercept[1:]).all()
    keep = dummy == 0
    reduced = SoftmaxNNClassifier(alpha=0.0, reference_class=0, solver="trust-ncg",
                                  tol=1e-10).fit(X[keep], y[keep])
    assert_allclose(result.coef[1:, :2], reduced.coef_[1:], rtol=1e-2, atol=1e-2)


# -------------------------------------------------- 7. finite inputs, finite outputs
@pytest.mark.parametrize("activation", ["identity", "relu", "tanh"])
def test_huge_finite_inputs_give_finite_probabilities(activation):
    """Rows of finite numbers up to 1.7e308 through a network: probabilities finite,
    rows summing to one, predict their argmax (once all NaN with an arbitrary label)."""
    X, y = make_problem(n_samples=60, n_features=3, seed=1)
    model = SoftmaxNNClassifier(hidden_layer_sizes=(4,), activation=activation,
                                random_state=0, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    huge = X / np.abs(X).max() * 1.7e308
    proba = model.predict_proba(huge)
    assert np.isfinite(proba).all()
    assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)
    assert_array_equal(model.predict(huge), model.classes_[np.argmax(proba, axis=1)])
    assert not np.isnan(model.predict_log_proba(huge)).any()
    assert not np.isnan(model.decision_function(huge)).any()
    # the direction decides, as on X scaled down (homogeneous layers)
    if activation != "tanh":
        scaled_down = X[:10] / np.abs(X).max() * 1e300
        assert_array_equal(model.predict(huge[:10]), model.predict(scaled_down))


# ----------------------------------------------------- 8. one stray Latin-1 byte
def test_a_stray_latin_1_byte_keeps_the_utf8_text(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes("name,y\ncafé,0\n".encode() + b"caf\xe9,1\n")
    with pytest.warns(UserWarning, match="line 3 holds bytes that are not UTF-8"):
        text = read_text(path)
    assert text == "name,y\ncafé,0\ncafé,1\n"
    legacy = tmp_path / "legacy.csv"
    legacy.write_bytes(b"name,y\ncaf\xe9,0\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_text(legacy) == "name,y\ncafé,0\n"


# ------------------------------------------- 9. model files that predict wrong
def _cli_model(tmp_path, capsys):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"size": rng.choice([1000.0, 1001.0], 60),
                          "colour": rng.choice(["red", "blue"], 60),
                          "y": rng.choice(["p", "q"], 60)})
    frame.loc[3, "size"] = np.nan
    data = tmp_path / "d.csv"
    frame.to_csv(data, index=False)
    path = tmp_path / "cli.skops"
    assert main(["fit", str(data), "--target", "y", "--cv", "0", "--impute", "median",
                 "--save", str(path)]) == 0
    capsys.readouterr()
    return path


def _transformer(m, kind):
    for entry in m.attrs(0)["transformers_"]["content"]:
        name = entry["content"][0]["content"]
        if kind in name:
            return entry["content"][1]
    raise AssertionError(kind)


def test_numeric_categories_for_a_text_column_are_refused(tmp_path, capsys):
    path = _cli_model(tmp_path, capsys)
    m = Model(path)
    encoder = _transformer(m, "categorical")
    steps = encoder["content"]["content"]["steps"]["content"]
    attrs = steps[-1]["content"][1]["content"]["content"]
    attrs["categories_"]["content"][0] = m.array_node(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="holds text .* every text value would encode"):
        load_model(m.write(tmp_path / "t.skops"))  # its metadata: colour holds text


def test_fill_values_that_do_not_fit_the_fill_dtype_are_refused(tmp_path, capsys):
    """An imputer whose _fill_dtype is int8 with a median of 1000.5: it would impute
    -24; refused."""
    path = _cli_model(tmp_path, capsys)
    m = Model(path)
    numeric = _transformer(m, "numeric")
    steps = numeric["content"]["content"]["steps"]["content"]
    imputer = steps[0]["content"][1]["content"]["content"]
    if "_fill_dtype" not in imputer:
        pytest.skip("this scikit-learn's SimpleImputer keeps no _fill_dtype")
    imputer["statistics_"] = m.array_node(np.array([1000.5]))
    dtype = imputer["_fill_dtype"]  # its own node (it shared _fit_dtype's __id__)
    dtype["content"], dtype["__id__"] = m.array_node(np.empty(0, np.int8)), 987_654_321
    with pytest.raises(ValueError, match="do not fit its _fill_dtype int8"):
        load_model(m.write(tmp_path / "t.skops"))


# ------------------------------------------------ 10. ties: predict = argmax(proba)
def test_predict_is_the_argmax_of_predict_proba_on_ties():
    """Logits 1e-17 apart: the probabilities tie exactly; predict is the first of the
    tied classes, as argmax(predict_proba) (once argmax of the logits)."""
    X, y = make_problem(n_samples=30, n_features=2, seed=0)
    model = SoftmaxNNClassifier(max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    model.coefs_ = [np.zeros_like(model.coefs_[0])]
    model.intercepts_ = [np.array([0.0, 1e-17, -1.0])]
    proba = model.predict_proba(X)
    assert proba[0, 0] == proba[0, 1]
    assert_array_equal(model.predict(X), model.classes_[np.argmax(proba, axis=1)])


# ---------------------------------------------------------- 11. unsafe output
def test_info_escapes_control_characters(tmp_path, capsys):
    X, y = make_problem(n_samples=40, n_features=2, seed=1)
    model = SoftmaxNNClassifier().fit(pd.DataFrame(X, columns=["a", "b"]), y)
    path = tmp_path / "m.skops"
    save_model(model, path, metadata={"target": "\x1b]0;pwned\x07label\x1b[2J",
                                      "classes": ["\x1b[31mred"]})
    status, out, err = cli(capsys, "info", path)
    assert status == 0, err
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;pwned\\x07label\\x1b[2J" in out and "\\x1b[31mred" in out


def test_csv_cells_that_would_be_formulas_are_neutralised(tmp_path, capsys):
    """--id cells and class labels that begin with =, +, - or @ are written with a
    leading apostrophe (numbers such as -1.5 are not); a NUL byte (past the first 4 KB,
    where a file is not taken for binary) is written escaped."""
    X, y = make_problem(n_samples=200, n_features=2, seed=1)
    ids = ["=1+2", "+cmd", "-1.5", "@SUM(A1)"] + [f"row{k}" for k in range(195)] + [
        "plain\x00nul"]
    frame = pd.DataFrame(X, columns=["a", "b"]).assign(
        id=ids, y=np.array(["=HYPERLINK()", "b", "c"])[y])
    data = tmp_path / "d.csv"
    frame.to_csv(data, index=False)
    model = tmp_path / "m.skops"
    assert main(["fit", str(data), "--target", "y", "--id", "id", "--cv", "0",
                 "--save", str(model)]) == 0
    capsys.readouterr()
    status, out, err = cli(capsys, "predict", model, data, "--proba")
    assert status == 0, err
    written = pd.read_csv(__import__("io").StringIO(out), dtype=str, keep_default_na=False)
    assert list(written["id"][:4]) == ["'=1+2", "'+cmd", "-1.5", "'@SUM(A1)"]
    # escaped (older pandas stop the cell at the NUL when reading the file)
    assert written["id"].iloc[-1] in ("plain\\x00nul", "plain") and "\x00" not in out
    assert "'=HYPERLINK()" in written.columns
    status, out, _ = cli(capsys, "predict", model, data)
    assert "'=HYPERLINK()" in out and "\n=HYPERLINK" not in out


# ------------------------------------------------------ 12. tampered metadata
@pytest.mark.parametrize("metadata, message", [
    ({"cv_scores": {"m": {"accuracy": 0.9}}, "cv_folds": 5},
     "metadata field 'cv_scores' entry 'm' lacks the numbers accuracy, log_loss, "
     "fit_time_s"),
    ({"cv_scores": ["a", "b"]}, "metadata field 'cv_scores' is a list"),
    ({"id_column": ["x"]}, "metadata field 'id_column' is a list"),
    ({"numeric": [1, 2]}, "metadata field 'numeric' holds something other than text"),
])
def test_info_on_tampered_metadata_is_one_line_with_the_file(tmp_path, capsys, metadata,
                                                             message):
    X, y = make_problem(n_samples=40, n_features=2, seed=1)
    model = SoftmaxNNClassifier().fit(pd.DataFrame(X, columns=["a", "b"]), y)
    path = tmp_path / "m.skops"
    save_model(model, path, metadata=metadata)
    status, out, err = cli(capsys, "info", path)
    assert status == 2 and "Traceback" not in err
    assert err.strip() == f"sk-softmax: error: {path}: {message}"


# --------------------------------------------- 14. cross-validation's odd inputs
def test_cv_with_no_splits_or_bad_indices_says_so():
    X, y = make_problem(n_samples=60, n_features=2, seed=3)
    with pytest.raises(ValueError, match="cv gave no splits"):
        SoftmaxNNClassifierCV(alphas=3, cv=iter([])).fit(X, y)
    bad = [(np.arange(40), np.arange(40, 70))]
    with pytest.raises(ValueError, match=r"cv split 1: its test indices must be .* \[0, 60\)"):
        SoftmaxNNClassifierCV(alphas=3, cv=bad).fit(X, y)
    with pytest.raises(ValueError, match="alphas must be an int"):
        SoftmaxNNClassifierCV(alphas=True).fit(X, y)


def test_cv_scorer_giving_nan_is_not_a_choice():
    """A scorer that returns NaN: every alpha NaN is an error (once the largest alpha
    chosen silently); some NaN a warning, and they rank last."""
    X, y = make_problem(n_samples=60, n_features=2, seed=3)
    with pytest.raises(ValueError, match="NaN for every alpha"):
        SoftmaxNNClassifierCV(alphas=3, cv=3, scoring=lambda est, X, y: np.nan).fit(X, y)
    calls = {"n": 0}

    def some_nan(est, X, y):
        calls["n"] += 1
        return np.nan if est.alpha > 1 else -est.alpha

    with pytest.warns(UserWarning, match="gave NaN at alpha"):
        clf = SoftmaxNNClassifierCV(alphas=[10.0, 0.1, 0.01], cv=3, scoring=some_nan).fit(X, y)
    assert clf.alpha_ == 0.01


# ------------------------------------------------------- 15. odd parameter values
def test_reference_class_must_be_one_label():
    X, y = make_problem(n_samples=40, n_features=2, seed=1)
    for bad in ([0], np.array([0, 1]), {0}):
        with pytest.raises(ValueError, match="reference_class must be one label"):
            SoftmaxNNClassifier(reference_class=bad).fit(X, y)
    assert SoftmaxNNClassifier(reference_class=np.int64(1)).fit(X, y).coefs_[0][0, 1] == 0


def test_subnormal_weights_and_huge_integers_say_what_is_wrong():
    X, y = make_problem(n_samples=40, n_features=2, seed=1)
    with pytest.raises(ValueError, match="below the smallest normal float64"):
        SoftmaxNNClassifier().fit(X, y, sample_weight=np.full(40, 1e-320))
    huge = X.astype(object)
    huge[0, 0] = 10**400
    with pytest.raises(ValueError, match="too large for float64"):
        SoftmaxNNClassifier().fit(huge, y)
    model = SoftmaxNNClassifier().fit(X, y)
    with pytest.raises(ValueError, match="too large for float64"):
        model.predict(huge)


# --------------------------------------------- 16. a user's thread limits during a fit
def test_a_users_thread_limit_during_a_fit_takes_effect_and_is_restored():
    """threadpool_limits(2) entered in another thread while a fit holds the BLAS at one
    thread: it takes effect there (it was ignored), and once both are done the process
    has the BLAS threads it had."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from sk_softmax._objective import SINGLE_THREADED_BLAS, blas_controller

    def threads():
        return [lib.get_num_threads() for lib in blas_controller().lib_controllers]

    if not threads():
        pytest.skip("no BLAS under threadpoolctl")
    with threadpoolctl.threadpool_limits(3):
        before = threads()
        seen = []

        def user():
            with threadpoolctl.threadpool_limits(2):
                seen.append(threads())

        with SINGLE_THREADED_BLAS:
            assert threads() == [1] * len(before)
            worker = threading.Thread(target=user)
            worker.start()
            worker.join()
        assert seen == [[2] * len(before)]
        assert threads() == before


# ------------------------------------------------ the edges of the new code paths
def test_terminations_raise_is_a_no_op_off_the_main_thread(capsys, tmp_path):
    """Python sets signal handlers in the main thread only: main() called from another
    thread runs, with the handlers left alone."""
    before = signal.getsignal(signal.SIGTERM)
    statuses = []
    missing = str(tmp_path / "missing.skops")
    worker = threading.Thread(target=lambda: statuses.append(main(["info", missing])))
    worker.start()
    worker.join()
    assert statuses == [2] and signal.getsignal(signal.SIGTERM) is before


def test_a_termination_in_process_is_its_own_status(capsys, monkeypatch, model_file):
    import sk_softmax._cli as cli_module

    def terminated(args):
        raise cli_module._Terminated(signal.SIGTERM)

    monkeypatch.setattr(cli_module, "info_command", terminated)
    status, _, err = cli(capsys, "info", model_file)
    assert status == 128 + signal.SIGTERM and err.strip() == "sk-softmax: terminated (SIGTERM)"


def test_check_memory_without_sysconf_leaves_it_to_the_fit(monkeypatch):
    import sk_softmax._cli as cli_module

    def unavailable(name):
        raise ValueError(name)

    monkeypatch.setattr(os, "sysconf", unavailable)
    assert cli_module.check_memory(10, 3, (10**8,), 3) is None


def test_a_file_that_grew_past_the_cap_while_read(tmp_path, monkeypatch):
    import sk_softmax._csv as csv_module

    path = tmp_path / "d.csv"
    path.write_text("a,y\n" + "1,0\n" * 600)
    monkeypatch.setattr(csv_module, "MAX_CSV_BYTES", 1024)
    monkeypatch.setattr(csv_module, "regular_file_size", lambda path, what: 10)
    with pytest.raises(CLIError, match="larger than 0 GiB"):
        read_text(path)


def test_cv_folds_as_boolean_masks_and_non_integer_indices():
    X, y = make_problem(n_samples=60, n_features=2, seed=3)
    masks = [(np.arange(60) % 3 != k, np.arange(60) % 3 == k) for k in range(3)]
    indices = [(np.flatnonzero(a), np.flatnonzero(b)) for a, b in masks]
    by_mask = SoftmaxNNClassifierCV(alphas=3, cv=masks).fit(X, y)
    by_index = SoftmaxNNClassifierCV(alphas=3, cv=indices).fit(X, y)
    assert_allclose(by_mask.scores_, by_index.scores_)
    with pytest.raises(ValueError, match="its training indices must be integers"):
        SoftmaxNNClassifierCV(alphas=3, cv=[(np.arange(40) + 0.5, np.arange(40, 60))]).fit(X, y)


def test_hessian_products_on_sparse_blocks_and_hidden_layers_refused():
    import scipy.sparse as sp

    from sk_softmax._hessian import HessianProduct, SoftmaxHessian
    from sk_softmax._network import ParamLayout

    X, y = make_problem(n_samples=50, n_features=4, seed=5)
    X[np.abs(X) < 0.7] = 0
    layout = ParamLayout([4, 3], 0, True)
    weight = np.full(50, 1 / 50)
    theta, vector = np.random.default_rng(1).standard_normal((2, layout.n_params))
    expected = SoftmaxHessian(theta, X, y, weight, layout).product(vector)
    assert_allclose(HessianProduct(sp.csr_matrix(X), y, weight, layout)(theta, vector),
                    expected, rtol=1e-13)
    with pytest.raises(ValueError, match="softmax regression only"):
        HessianProduct(X, y, weight, ParamLayout([4, 2, 3], None, True))


def test_certificate_on_a_singular_information_and_sparse_rows():
    """No certificate from an information that is not positive definite; with sparse
    rows, the exact leverages (where the cheap bound is not enough) are those of the
    dense rows."""
    import scipy.sparse as sp

    from sk_softmax._identification import certify_estimate_exists
    from sk_softmax._network import ParamLayout

    layout = ParamLayout([2, 2], 0, True)
    certified, distance = certify_estimate_exists(np.zeros((3, 3)), np.ones(3),
                                                  np.ones((4, 3)), layout)
    assert not certified and distance == np.inf
    rows = np.c_[np.random.default_rng(0).standard_normal((40, 2)) * 30, np.ones(40)]
    information = rows.T @ rows * 1e-3
    gradient = np.full(3, 1e-3)
    dense = certify_estimate_exists(information, gradient, rows, layout)
    sparse = certify_estimate_exists(information, gradient, sp.csr_matrix(rows), layout)
    assert dense == sparse


def test_sparse_separated_data_reports_as_dense():
    import scipy.sparse as sp
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    model = SoftmaxNNClassifier(alpha=0.0, reference_class=0, max_iter=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
        dense = model.inference(X, y)
        sparse = model.inference(sp.csr_matrix(X), y)
    assert_array_equal(dense.separated, sparse.separated)
    assert_array_equal(np.isnan(dense.std_err_coef), np.isnan(sparse.std_err_coef))


def test_inference_result_given_separated_classes():
    """The private entry point with separated classes given: all of their coefficients
    unknown, the other class's reported."""
    from sklearn.datasets import load_iris

    from sk_softmax._inference import inference_result

    X, y = load_iris(return_X_y=True)
    X = X[:, :2]
    model = SoftmaxNNClassifier(alpha=0.0, reference_class=0, solver="trust-ncg",
                                tol=1e-8).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = inference_result(model, X, y, np.ones(150), "nonrobust",
                                  separated=np.array([False, True, False]))
    assert np.isnan(result.std_err_coef[1]).all() and np.isfinite(result.std_err_coef[2]).all()


def test_text_column_check_skips_what_it_cannot_read():
    """Metadata text columns on a bare classifier, a pipeline not starting with a
    ColumnTransformer, or one fitted without column names: nothing to compare."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from sk_softmax._model_checks import _check_text_columns

    X, y = make_problem(n_samples=40, n_features=2, seed=1)
    bare = SoftmaxNNClassifier().fit(X, y)
    scaled = make_pipeline(StandardScaler(), SoftmaxNNClassifier()).fit(X, y)
    columns = make_pipeline(ColumnTransformer([("c", OneHotEncoder(), [0])]),
                            SoftmaxNNClassifier()).fit(np.round(X), y)
    for model in (bare, scaled, columns):
        assert _check_text_columns(model, ["x0"]) is None


def test_forward_scaled_equals_forward_where_both_are_finite():
    """The rescaled pass gives the logits (times its scale) of the plain one, for the
    homogeneous and the saturating activations."""
    from sk_softmax._network import ParamLayout, forward, forward_scaled, glorot_uniform

    layout = ParamLayout([3, 4, 3], None, True)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3)) * 1e5
    for activation in ("identity", "relu", "tanh", "logistic"):
        coefs, intercepts = layout.unpack(
            glorot_uniform(layout, activation, np.random.RandomState(0)), np.float64)
        Z, scale = forward_scaled(X, coefs, intercepts, activation)
        plain = forward(X, coefs, intercepts, activation)[-1]
        assert_allclose(Z * scale[:, np.newaxis], plain, rtol=1e-9, atol=1e-6)


def test_newton_polish_keeps_a_point_no_step_improves():
    """A Newton step that does not lower the gradient's norm is not taken."""
    from scipy.optimize import OptimizeResult

    from sk_softmax._solver import newton_polish

    def fun(x):  # the gradient's norm grows away from x = 0 along every step taken
        return float(x @ x), np.full_like(x, 1.0) + 10 * x

    result = OptimizeResult(x=np.zeros(2), jac=np.ones(2), fun=0.0, nit=3, status=2,
                            message="stopped")
    steps = []
    polished = newton_polish(fun, lambda x, v: -v, result, 1e-12, 100, steps.append)
    assert polished.nit == 3 and not steps and polished.status == 2
