#!/usr/bin/env python
"""Mutation testing of the numerical core with mutmut (slow: not part of CI).

Every module is mutated in its own scratch copy of a git revision (``git archive``, so
the checkout is never touched), with the test files that are meant to catch its bugs::

    python -m pip install -e ".[dev]"
    python tools/mutation.py                          # all modules, then tools/MUTATION.md
    python tools/mutation.py --modules _loss _hessian --module-timeout 900
    python tools/mutation.py --named-only             # the issue's six mutations only

For each module the report gives killed / total, the score over the non-equivalent
mutants, and every survivor with the reason it is equivalent or harmless (from
``EXPLAINED`` below, keyed by the mutated line) or "UNEXPLAINED" (a gap in the tests).
A module stopped by ``--module-timeout`` is reported with its partial figures.

``--named`` (on by default) also applies the six hand-written mutations of the issue
(``NAMED``) to a scratch copy, one at a time, and checks that the named tests fail on
each and pass on the unmutated code.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Module -> the test files that run against its mutants (mutmut then runs, for each
#: mutant, only the tests of these files that call the mutated function).
TARGETS = "tests/test_mutation_targets.py"
MODULES = {
    "_loss": ["tests/test_loss.py", "tests/test_objective.py", "tests/test_network.py",
              "tests/test_array_api.py", TARGETS],
    "_network": ["tests/test_network.py", "tests/test_objective.py", "tests/test_loss.py",
                 "tests/test_classifier.py", "tests/test_array_api.py",
                 "tests/test_validation.py", TARGETS],
    "_objective": ["tests/test_objective.py", "tests/test_network.py",
                   "tests/test_loss.py", "tests/test_inference.py",
                   "tests/test_array_api.py", TARGETS],
    "_hessian": ["tests/test_inference.py", TARGETS],
    "_inference": ["tests/test_inference.py", "tests/test_statistics.py",
                   "tests/test_trust.py", TARGETS],
    "_persist": ["tests/test_persist.py", TARGETS],
}

PYTEST_ARGS = ["-p", "no:cacheprovider", "-x", "-q", "-o", "addopts=",
               "-W", "ignore::pytest.PytestUnraisableExceptionWarning"]

#: The issue's six single-line bugs: (name, file, original, mutated, tests that must fail).
NAMED = [
    ("gradient accumulators in X's dtype (_sums)", "sk_softmax/_objective.py",
     "coef_grads = [np.zeros(c.shape) for c in coefs]\n"
     "        intercept_grads = [np.zeros(b.shape) for b in intercepts]",
     "coef_grads = [np.zeros(c.shape, c.dtype) for c in coefs]\n"
     "        intercept_grads = [np.zeros(b.shape, b.dtype) for b in intercepts]",
     ["tests/test_objective.py::test_float32_gradient_accumulates_in_float64"]),
    ("loss summed with the float32 weights", "sk_softmax/_loss.py",
     "loss = float(weight @ nll)", "loss = float(weight_x @ nll)",
     ["tests/test_loss.py::test_float32_loss_sums_with_float64_weights"]),
    ("float32 data upcast to float64 for the passes", "sk_softmax/_objective.py",
     "self.dtype = X.dtype", "self.dtype = np.dtype(np.float64)",
     ["tests/test_objective.py::test_float32_passes_run_in_float32"]),
    ("sparse X densified at prediction time", "sk_softmax/_predict.py",
     "    n_samples = X.shape[0]\n",
     "    n_samples = X.shape[0]\n    X = X.toarray() if sp.issparse(X) else X\n",
     ["tests/test_classifier.py::test_sparse_prediction_is_never_densified"]),
    ("binary inference with the labels of all classes", "sk_softmax/_inference.py",
     "classes[1:] if len(classes) == 2 else classes", "classes",
     ["tests/test_inference.py::test_binary_summary_and_frame"]),
    ("AIC's parameter count without the centring correction", "sk_softmax/_inference.py",
     "n_free = layout.n_params - centred", "n_free = layout.n_params",
     ["tests/test_inference.py::test_penalised_symmetric_model_warns_and_centres"]),
]

#: Survivors that are equivalent (no input can tell them apart) or harmless, keyed by
#: (module, function, the mutated line with whitespace collapsed).
_FLAT = ("equivalent: ``take`` and ``put`` index the flattened array whatever the "
         "shape of ``flat``")
_OUT = ("equivalent: the same values in a new array instead of in place (one more "
        "allocation, no other change)")
_DTYPE = ("equivalent: a scipy sparse matrix's dtype is that of its data, which is "
          "replaced on the next line")
_CSC = 'equivalent: any format other than "csr" builds the CSC transpose'
_TRUEDIV = ("equivalent: the weights become float64 in the true division (integer or "
            "float input alike)")
_INT = "equivalent: int() of a positive true quotient is its floor quotient"
_INT32 = ("equivalent: the label positions are int32 or intp by the logits of one block "
          "(about 2**16 values: never 2**31); either dtype indexes the same entries")
_COPY = ("equivalent: a copy instead of a view (or the reverse) of an array that is only "
         "read")
_PINV = ("equivalent up to rounding: the pseudo-inverse (SVD or eigen-decomposition) of "
         "the symmetric positive definite information is its inverse")
_FIXED = ("equivalent: the entries no parameter moves have a variance of exactly 0, made "
          "NaN by the other of the two guards (variance > 0, rows of M that are zero)")
_STACK = ("killed outside mutmut (test_mutation_targets.py::test_separation_warnings_"
          "point_at_the_caller checks the warning's file): mutmut calls the mutated function "
          "through a trampoline, one more frame, so the test skips that check under it")
_STACK_ALPHA = ("killed outside mutmut (test_mutation_targets.py::test_inference_messages_"
                "and_weights checks the warning's file); under mutmut's trampoline frame the "
                "test skips that check")
_X_CAST = ("equivalent: the Hessian casts X to float64 and the logits of a numeric X are "
           "float64 whatever X's dtype")
_CSR = "equivalent: a CSC X converted to CSR gives the same statistics"
_F64 = "equivalent: astype(None) is float64, the dtype asked for"
_NO_HIDDEN = ("equivalent: the activation applies to hidden layers only, and the "
              "Hessian's network has none")
_COO = ("equivalent: the design with its column of ones in COO instead of CSR; the "
        "products give the same values")
EXPLAINED = {
    ("_loss", "nll_gradient_inplace", "flat = logits_t.reshape(None)"): _FLAT,
    ("_loss", "nll_gradient_inplace", "flat = logits_t.reshape(-2)"): _FLAT,
    ("_loss", "nll_gradient_inplace", "sum_exp = np.divide(weight_x, sum_exp, out=None)"):
        _OUT,
    ("_loss", "nll_gradient_inplace", "sum_exp = np.divide(weight_x, sum_exp, )"): _OUT,
    ("_loss", "nll_gradient_inplace",
     "flat.put(label_index, np.subtract(label_value, weight_x, out=None))"): _OUT,
    ("_loss", "nll_gradient_inplace",
     "flat.put(label_index, np.subtract(label_value, weight_x, ))"): _OUT,
    ("_objective", "_sparse_view",
     'matrix = (sp.csr_matrix if format == "csr" else sp.csc_matrix)(shape, dtype=None)'):
        _DTYPE,
    ("_objective", "_sparse_view",
     'matrix = (sp.csr_matrix if format == "csr" else sp.csc_matrix)(shape, )'): _DTYPE,
    ("_objective", "_row_blocks",
     "arrays = (X.data[lo:hi], X.indices[lo:hi], X.indptr[start : stop + 2] - lo)"):
        "equivalent: one more indptr entry after the block's last row, which no product "
        "reads (the shape gives the rows)",
    ("_objective", "_row_blocks",
     "block_t = _sparse_view(None, *arrays, (n_features, stop - start))"): _CSC,
    ("_objective", "_row_blocks",
     'block_t = _sparse_view("XXcscXX", *arrays, (n_features, stop - start))'): _CSC,
    ("_objective", "_row_blocks",
     'block_t = _sparse_view("CSC", *arrays, (n_features, stop - start))'): _CSC,
    ("_objective", "loss_gradient",
     "weight = np.asarray(sample_weight, dtype=None) / np.sum(sample_weight)"): _TRUEDIV,
    ("_objective", "loss_gradient",
     "weight = np.asarray(sample_weight, ) / np.sum(sample_weight)"): _TRUEDIV,
    ("_hessian", "SoftmaxHessian.__init__", "coefs, intercepts = layout.unpack(theta, None)"):
        _F64,
    ("_hessian", "SoftmaxHessian.product",
     "coefs, intercepts = self.layout.unpack(vector, None)"): _F64,
    ("_hessian", "SoftmaxHessian.__init__",
     "self.proba = softmax(forward(X, coefs, intercepts, None)[-1])"): _NO_HIDDEN,
    ("_hessian", "SoftmaxHessian.__init__",
     'self.proba = softmax(forward(X, coefs, intercepts, "XXidentityXX")[-1])'): _NO_HIDDEN,
    ("_hessian", "SoftmaxHessian.__init__",
     'self.proba = softmax(forward(X, coefs, intercepts, "IDENTITY")[-1])'): _NO_HIDDEN,
    ("_hessian", "SoftmaxHessian.__init__",
     'self.proba = softmax(forward(X, coefs, intercepts, "identity")[+1])'):
        "equivalent: forward returns [X, Z] without hidden layers, so [+1] is [-1]",
    ("_hessian", "SoftmaxHessian._blocks",
     "X = sp.hstack([X, ones], format=None) if sp.issparse(X) else np.hstack([X, ones])"):
        _COO,
    ("_hessian", "SoftmaxHessian._blocks",
     "X = sp.hstack([X, ones], ) if sp.issparse(X) else np.hstack([X, ones])"): _COO,
    ("_hessian", "SoftmaxHessian._blocks",
     "block = X.T @ (sp.diags(c) @ X if (sp.issparse(X)) or True else X * c[:, None])"):
        "equivalent: a sparse diagonal times a dense X is the dense X * c[:, None]",
    ("_objective", "Objective.__init__",
     "n_useful = max(1, int(n_samples * values / MIN_VALUES_PER_THREAD))"): _INT,
    ("_objective", "Objective.__init__",
     "block_rows = max(32, int(per_thread * n_threads / values))"): _INT,
    ("_objective", "Objective._sums",
     "coef_grads[l] += np.matmul(previous_t, delta_t.T, out=None)"): _OUT,
    ("_objective", "Objective._sums", "coef_grads[l] += np.matmul(previous_t, delta_t.T, )"):
        _OUT,
    ("_objective", "Objective._sums", "delta_t = np.matmul(coefs[l], delta_t, out=None)"):
        _OUT,
    ("_objective", "Objective._sums", "delta_t = np.matmul(coefs[l], delta_t, )"): _OUT,
    ("_objective", "Objective.__init__", "weight = np.asarray(weight, dtype=None)"):
        "equivalent for the float64 weights every caller passes (documented: ndarray of "
        "float64)",
    ("_objective", "Objective.__init__", "weight = np.asarray(weight, )"):
        "equivalent for the float64 weights every caller passes (documented: ndarray of "
        "float64)",
    ("_objective", "Objective.__init__", "n_logits = n_rows / layout.layer_units[-1]"):
        _INT32,
    ("_objective", "Objective.__init__", "n_logits = n_rows * layout.layer_units[+1]"):
        _INT32,
    ("_objective", "Objective.__init__", "n_logits = n_rows * layout.layer_units[-2]"):
        _INT32,
    ("_objective", "Objective.__init__",
     "label_index = label_index.astype(np.int32 if (n_logits < 2**31) and False else np.intp)"):
        _INT32,
    ("_objective", "Objective.__init__",
     "label_index = label_index.astype(np.int32 if (n_logits < 2**31) or True else np.intp)"):
        _INT32,
    ("_objective", "Objective.__init__",
     "label_index = label_index.astype(np.int32 if n_logits <= 2**31 else np.intp)"): _INT32,
    ("_objective", "Objective.__init__",
     "label_index = label_index.astype(np.int32 if n_logits < 2 * 31 else np.intp)"): _INT32,
    ("_objective", "Objective.__init__",
     "label_index = label_index.astype(np.int32 if n_logits < 3**31 else np.intp)"): _INT32,
    ("_objective", "Objective.__init__",
     "label_index = label_index.astype(np.int32 if n_logits < 2**32 else np.intp)"): _INT32,
    ("_objective", "Objective.__init__", "w_x = w.astype(self.dtype, copy=None)"): _COPY,
    ("_objective", "Objective.__init__", "w_x = w.astype(self.dtype, )"): _COPY,
    ("_objective", "Objective.__init__", "w_x = w.astype(self.dtype, copy=True)"): _COPY,
    ("_network", "ParamLayout.__init__",
     "self.free = np.array([k for k in range(n_classes) if k != reference], dtype=None)"):
        "equivalent: a list of Python ints becomes an intp array without the dtype too",
    ("_network", "ParamLayout.__init__",
     "self.free = np.array([k for k in range(n_classes) if k != reference], )"):
        "equivalent: a list of Python ints becomes an intp array without the dtype too",
    ("_network", "ParamLayout.pack", "theta = np.empty(self.n_params, dtype=None)"):
        "equivalent: np.empty's default dtype is float64",
    ("_network", "ParamLayout.pack", "theta = np.empty(self.n_params, )"):
        "equivalent: np.empty's default dtype is float64",
    ("_network", "ParamLayout.unpack",
     "coef = theta[self._slices[l]].astype(dtype, copy=None)"): _COPY,
    ("_network", "ParamLayout.unpack", "coef = theta[self._slices[l]].astype(dtype, )"): _COPY,
    ("_network", "ParamLayout.unpack",
     "coef = theta[self._slices[l]].astype(dtype, copy=True)"): _COPY,
    ("_network", "ParamLayout.unpack",
     "intercept = theta[self._slices[n_layers + l]].astype(dtype, copy=None)"): _COPY,
    ("_network", "ParamLayout.unpack",
     "intercept = theta[self._slices[n_layers + l]].astype(dtype, )"): _COPY,
    ("_network", "ParamLayout.unpack",
     "intercept = theta[self._slices[n_layers + l]].astype(dtype, copy=True)"): _COPY,
    ("_network", "ParamLayout.unpack", "full[:, self.free] = coef.reshape(fan_in, -2)"):
        "equivalent: numpy takes any negative size as the one to infer",
    ("_inference", "InferenceResult.summary",
     "if all(np.isnan(v[3]) for v in values) and label not in self.separated:"):
        "equivalent: z = coef / std err is NaN exactly where the (finite-coefficient) "
        "std err is",
    ("_inference", "free_cov",
     "bread = np.linalg.pinv(information, hermitian=True) if (pseudo_inverse) or True else ("):
        _PINV,
    ("_inference", "free_cov",
     "bread = np.linalg.pinv(information, hermitian=None) if pseudo_inverse else ("): _PINV,
    ("_inference", "free_cov",
     "bread = np.linalg.pinv(information, ) if pseudo_inverse else ("): _PINV,
    ("_inference", "free_cov",
     "bread = np.linalg.pinv(information, hermitian=False) if pseudo_inverse else ("): _PINV,
    ("_inference", "null_log_likelihood",
     "counts = np.bincount(y_true, weights=sample_weight, )"):
        "equivalent: the classes missing at the end would be dropped as zero counts",
    ("_inference", "coef_jacobians", "coefs, intercepts = layout.unpack(vector, None)"): _F64,
    ("_inference", "inference_result",
     "hessian = SoftmaxHessian(theta, X.astype(None), y_true,"): _F64,
    ("_inference", "inference_result",
     "unreliable = separated if len(classes) > 2 else separated.any(keepdims=False)"):
        "equivalent: a scalar True/False mask selects all or none of err's one row, as "
        "the one-element mask does",
    ("_inference", "inference_result", 'variance = np.einsum("IJ,JK,IK->I", M, cov, M)'):
        "equivalent: einsum's subscripts only need to be consistent",
    ("_inference", "inference_result",
     "err = np.sqrt(np.where(variance >= 0, variance, np.nan)) # never a variance <= 0"):
        _FIXED,
    ("_inference", "inference_result",
     "err[~np.any(M != 0, axis=1)] = None # fixed, not estimated"):
        "equivalent: None stored in a float array is NaN",
    ("_inference", "inference_result",
     "err[~np.any(M != 0, axis=None)] = np.nan # fixed, not estimated"): _FIXED,
    ("_inference", "inference_result", "err[~np.any(M != 0, )] = np.nan # fixed, not estimated"):
        _FIXED,
    ("_inference", "inference_result",
     "err[~np.any(M == 0, axis=1)] = np.nan # fixed, not estimated"): _FIXED,
    ("_inference", "inference_result",
     "err[~np.any(M != 1, axis=1)] = np.nan # fixed, not estimated"): _FIXED,
    ("_inference", "inference_result", "err[unreliable] = None"):
        "equivalent: None stored in a float array is NaN",
    ("_inference", "inference_result",
     "log_proba = log_softmax(forward(X, model.coefs_, model.intercepts_, None)[-1])"):
        _NO_HIDDEN,
    ("_inference", "inference_result",
     'log_proba = log_softmax(forward(X, model.coefs_, model.intercepts_, "XXidentityXX")[-1])'):
        _NO_HIDDEN,
    ("_inference", "inference_result",
     'log_proba = log_softmax(forward(X, model.coefs_, model.intercepts_, "IDENTITY")[-1])'):
        _NO_HIDDEN,
    ("_inference", "inference_result",
     'log_proba = log_softmax(forward(X, model.coefs_, model.intercepts_, "identity")[+1])'):
        "equivalent: forward returns [X, Z] without hidden layers, so [+1] is [-1]",
    ("_inference", "InferenceResult.__init__",
     "classes, feature_names, has_intercept=False, separated=(),"):
        "equivalent: the only caller, inference_result, passes has_intercept",
    ("_inference", "free_cov",
     "def free_cov(hessian, score_outer, sw_sum, cov_type, pseudo_inverse=True):"):
        "equivalent: the only caller, inference_result, passes pseudo_inverse",
    ("_persist", "_checked_copy", 'with zipfile.ZipFile(clean, "w", ) as copy:'):
        "equivalent: ZIP_STORED is zipfile's default compression",
    ("_persist", "_checked_copy", "clean.seek(1)"):
        "equivalent: zipfile finds an archive from its end (the central directory), "
        "whatever the stream's position",
    ("_persist", "save_model", 'with zipfile.ZipFile(tmp, "a", ) as archive:'):
        "harmless: the metadata member stored uncompressed (a larger file, read the same)",
    ("_inference", "_separation", "SeparationWarning, )"): _STACK,
    ("_inference", "_separation", "SeparationWarning, stacklevel=5)"): _STACK,
    ("_inference", "inference", "separated = None"):
        "equivalent: with alpha > 0 (the only case left unset) inference_result takes "
        "None as no separation",
    ("_inference", "inference_result",
     "complete_separation=separated.any() and bool(np.all(own_log_proba >= -1e-6)),"):
        "equivalent: a row's own log-probability of exactly -1e-6 is the only input that "
        "tells > from >=",
    ("_inference", "inference", "None, stacklevel=3,"):
        "equivalent: warnings.warn's category None is UserWarning",
    ("_inference", "inference", "stacklevel=3,"): _STACK_ALPHA,
    ("_inference", "inference", "UserWarning, )"): _STACK_ALPHA,
    ("_inference", "inference", "UserWarning, stacklevel=4,"): _STACK_ALPHA,
    ("_inference", "inference", "dtype=None, reset=False)"): _X_CAST,
    ("_inference", "inference", "reset=False)"): _X_CAST,
    ("_inference", "inference", "dtype=[np.float64, np.float32], reset=None)"):
        "equivalent: None is false, as reset=False",
    ("_inference", "inference",
     'X, y = validate_data(model, X, y, accept_sparse=["csr", "XXcscXX"],'): _CSR,
    ("_inference", "inference",
     'X, y = validate_data(model, X, y, accept_sparse=["csr", "CSC"],'): _CSR,
    ("_objective", "_release_blas_control", "*"):
        "harmless here: with this OpenBLAS and threadpoolctl 3.8 a limit set in one "
        "thread is restored from another without clearing the controlling thread "
        "(test_blas_held_to_one_thread_while_objectives_are_in_use passes without the "
        "clearing); it is a guard for builds that ignore such a restore",
}


def explanation(module, name, line):
    """The reason a survivor is equivalent or harmless, or "UNEXPLAINED"."""
    function = function_of(name)
    return EXPLAINED.get((module, function, line),
                         EXPLAINED.get((module, function, "*"), "UNEXPLAINED"))


def scratch_copy(rev, into):
    """Extract ``git archive rev`` into ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def run_named(rev, workdir):
    """Apply each NAMED mutation to a fresh copy: its tests must pass on the original
    code and fail on the mutant. Return the report rows."""
    rows = []
    copy = Path(workdir) / "named"
    scratch_copy(rev, copy)
    env = dict(os.environ, PYTHONPATH=str(copy))
    for name, path, original, mutated, tests in NAMED:
        source = (copy / path).read_text()
        if source.count(original) != 1:
            rows.append((name, tests, "NOT APPLIED: the original line changed"))
            continue

        def outcome():
            result = subprocess.run([sys.executable, "-m", "pytest", *PYTEST_ARGS, *tests],
                                    cwd=copy, env=env, capture_output=True, text=True)
            return result.returncode

        clean = outcome()
        (copy / path).write_text(source.replace(original, mutated))
        try:
            mutant = outcome()
        finally:
            (copy / path).write_text(source)
        verdict = ("killed" if clean == 0 and mutant == 1 else
                   f"NOT KILLED (exit {clean} on the code, {mutant} on the mutant)")
        rows.append((name, tests, verdict))
        print(f"named: {name}: {verdict}", flush=True)
    return rows


def mutmut_config(module, tests):
    quoted = lambda items: "[" + ", ".join(f'"{i}"' for i in items) + "]"  # noqa: E731
    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["sk_softmax"]\n'
        f'only_mutate = ["sk_softmax/{module}.py"]\n'
        f"pytest_add_cli_args = {quoted(PYTEST_ARGS)}\n"
        f"pytest_add_cli_args_test_selection = {quoted(tests)}\n"
        'also_copy = ["README.md", "docs", "examples"]\n'  # read by some tests
    )


def run_module(module, rev, workdir, max_children, timeout):
    """Run mutmut on one module; return ``(statuses, diffs, finished)``."""
    copy = Path(workdir) / module
    scratch_copy(rev, copy)
    tests = [t for t in MODULES[module] if (copy / t).exists()]
    with open(copy / "pyproject.toml", "a") as f:
        f.write(mutmut_config(module, tests))
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    started = time.time()
    with open(copy / "mutmut.log", "w") as log:
        process = subprocess.Popen(["mutmut", "run", "--max-children", str(max_children)],
                                   cwd=copy, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            process.wait(timeout=timeout)
            finished = True
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()
            finished = False
    print(f"{module}: mutmut ran {time.time() - started:.0f} s"
          f"{'' if finished else ' (stopped by --module-timeout)'}", flush=True)
    listing = subprocess.run(["mutmut", "results", "--all", "true"], cwd=copy, env=env,
                             capture_output=True, text=True).stdout
    statuses = dict(re.findall(r"^\s*(\S+__mutmut_\d+): (.+?)\s*$", listing, re.M))
    diffs = {}
    for name, status in statuses.items():
        if status not in DETECTED and status != "not checked":
            diffs[name] = subprocess.run(["mutmut", "show", name], cwd=copy, env=env,
                                         capture_output=True, text=True).stdout
    return statuses, diffs, finished


DETECTED = ("killed", "segfault", "timeout")


def mutated_line(diff):
    """The mutant's line (the diff's added line), whitespace collapsed."""
    added = [line[1:] for line in diff.splitlines()
             if line.startswith("+") and not line.startswith("+++")]
    return " ".join(" ".join(added).split())


def function_of(name):
    """``sk_softmax._loss.x_softmax__mutmut_3`` -> ``softmax``; methods
    (``xǁClassǁmethod__mutmut_3``) -> ``Class.method``."""
    last = name.rsplit(".", 1)[-1].split("__mutmut_")[0]
    if last.startswith("xǁ"):
        return last[2:].replace("ǁ", ".")
    return last[2:] if last.startswith("x_") else last


def summarise(module, statuses, diffs, finished):
    """Counts and survivor rows of one module."""
    checked = {n: s for n, s in statuses.items() if s != "not checked"}
    # A crash (segfault) or a hang (timeout) of the tests detects the mutant too.
    killed = sum(s in DETECTED for s in checked.values())
    survivors = []
    for name, status in sorted(checked.items(), key=lambda item: natural(item[0])):
        if status in DETECTED:
            continue
        line = mutated_line(diffs.get(name, ""))
        reason = explanation(module, name, line)
        survivors.append((name, status, line, reason))
    equivalent = sum(r[3] != "UNEXPLAINED" for r in survivors)
    return {"total": len(statuses), "checked": len(checked), "killed": killed,
            "equivalent": equivalent, "survivors": survivors, "finished": finished}


def natural(name):
    head, _, number = name.rpartition("_")
    return head, int(number) if number.isdigit() else 0


def write_report(path, revs, named, summaries):
    lines = [
        "# Mutation testing",
        "",
        "Written by `python tools/mutation.py` (mutmut; revisions per module below). "
        "Score = killed / "
        "(checked - equivalent); killed counts the mutants the tests failed, crashed "
        "(segfault) or timed out on; a survivor (survived, or no selected test calls "
        "its function) is listed with why it is equivalent or harmless, or as "
        "UNEXPLAINED (a gap in the tests).",
        "",
        "| module | revision | mutants | checked | killed | equivalent/harmless | score "
        "| complete |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for module, s in summaries.items():
        effective = s["checked"] - s["equivalent"]
        score = f"{100 * s['killed'] / effective:.1f}%" if effective else "-"
        lines.append(f"| {module} | `{revs.get(module, '?')}` | {s['total']} | {s['checked']} "
                     f"| {s['killed']} | {s['equivalent']} | {score} "
                     f"| {'yes' if s['finished'] else 'no'} |")
    if named:
        lines += ["", f"## The issue's six mutations (revision `{revs.get('named', '?')}`)",
                  "", "| mutation | test | result |", "| --- | --- | --- |"]
        lines += [f"| {n} | `{' '.join(t)}` | {v} |" for n, t, v in named]
    for module, s in summaries.items():
        if not s["survivors"]:
            continue
        lines += ["", f"## Survivors in {module}", "", "| mutant | status | mutated line | why |",
                  "| --- | --- | --- | --- |"]
        for name, status, line, reason in s["survivors"]:
            short = name.rsplit(".", 1)[-1]
            code = line.replace("|", "\\|")
            lines.append(f"| {short} | {status} | `{code}` | {reason} |")
    Path(path).write_text("\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", nargs="+", choices=sorted(MODULES), default=list(MODULES))
    parser.add_argument("--rev", default="HEAD", help="git revision to mutate (default HEAD)")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--module-timeout", type=float, default=3600,
                        help="seconds per module before mutmut is stopped (partial figures)")
    parser.add_argument("--no-named", dest="named", action="store_false")
    parser.add_argument("--named-only", action="store_true",
                        help="only the six named mutations (with --merge: and the stored "
                             "figures, re-explained)")
    parser.add_argument("--report", default=str(ROOT / "tools" / "MUTATION.md"))
    parser.add_argument("--keep", action="store_true", help="keep the scratch copies")
    parser.add_argument("--merge", action="store_true",
                        help="keep the other modules' figures of the previous report "
                             "(stored beside it as .json) and replace those run now")
    args = parser.parse_args(argv)
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.rev],
                         check=True, capture_output=True, text=True).stdout.strip()
    workdir = tempfile.mkdtemp(prefix="sk-softmax-mutation-")
    store = Path(args.report).with_suffix(".json")
    previous = json.loads(store.read_text()) if args.merge and store.exists() else {}
    summaries = {m: s for m, s in previous.get("summaries", {}).items()
                 if m not in args.modules or args.named_only}
    named = previous.get("named", [])
    revs = previous.get("revs", {})
    for module, summary in summaries.items():  # with the explanations as they are now
        summary["survivors"] = [(name, status, line, explanation(module, name, line))
                                for name, status, line, _ in summary["survivors"]]
        summary["equivalent"] = sum(r[3] != "UNEXPLAINED" for r in summary["survivors"])

    def save():
        rows = [(m, summaries[m]) for m in MODULES if m in summaries]
        write_report(args.report, revs, named, dict(rows))
        store.write_text(json.dumps({"summaries": dict(rows), "named": named,
                                     "revs": revs}, indent=1, ensure_ascii=False))

    try:
        if args.named or args.named_only:
            named = run_named(rev, workdir)
            revs["named"] = rev
        for module in [] if args.named_only else args.modules:
            statuses, diffs, finished = run_module(module, rev, workdir, args.max_children,
                                                   args.module_timeout)
            summaries[module] = summarise(module, statuses, diffs, finished)
            revs[module] = rev
            save()  # after every module
        save()
    finally:
        if args.keep:
            print("scratch copies kept in", workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    failed = [n for n, _, v in named if v != "killed"]
    unexplained = sum(r[3] == "UNEXPLAINED" for s in summaries.values() for r in s["survivors"])
    print(f"report: {args.report}; named mutations not killed: {len(failed)}; "
          f"unexplained survivors: {unexplained}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
