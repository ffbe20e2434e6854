"""CSV files in and out for the command line: separator and decimal detection,
row-width checks, cell errors naming the line, categorical and missing cells,
the feature transformer, option values, and output paths that never overwrite
an input (atomic writes)."""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import codecs
import collections
import contextlib
import csv
import difflib
import io
import os
import re
import shlex
import stat
import warnings

import numpy as np

from ._files import atomic_path, regular_file_size

#: Cells read as missing: exactly these (pandas' own list would also take "None",
#: "NULL", "nan", "N/A" and more, which are labels in real files, such as R's
#: Arthritis data's "None"); ``--na-values`` adds to them.
MISSING = ["", "?", "NA"]
SEPARATORS = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe", " ": "space"}
_NUMBER = r"[+-]?(?:\d+{d}\d*|{d}\d+)(?:[eE][+-]?\d+)?"
_DECIMAL_COMMA = re.compile("^" + _NUMBER.format(d=",") + "$")
_DECIMAL_POINT = re.compile("^" + _NUMBER.format(d=r"\.") + "$")
SAMPLE_LINES = 200


class CLIError(Exception):
    """Bad input: reported as one line on stderr, exit status 2."""


def _pandas():
    try:
        import pandas
    except ImportError:
        raise CLIError(
            "the command line reads CSV files with pandas: from the source checkout, "
            "python -m pip install -e '.[cli]'"
        ) from None
    return pandas


#: The largest CSV file the command line reads (it holds the table in memory).
MAX_CSV_BYTES = 2**30


def _cp1252_byte(error):
    """A codec error handler: each byte UTF-8 cannot decode, as Windows-1252 (Latin-1
    where Windows-1252 has no character)."""
    bad = error.object[error.start:error.end]
    text = "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in bad)
    return text, error.end


codecs.register_error("sk_softmax_cp1252", _cp1252_byte)


def decode(raw, path):
    """The text of a file's bytes: UTF-8 (with or without BOM), each byte that is not
    UTF-8 read as Windows-1252. A file in one legacy encoding reads as it did (every
    non-ASCII byte is such a byte); a UTF-8 file with a stray Latin-1 byte keeps its
    UTF-8 text (``café`` stays ``café``), and a warning names the first such line."""
    text = raw.decode("utf-8-sig", errors="sk_softmax_cp1252")
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_elsewhere = any(b >= 0xC2 for b in raw[:exc.start]) or bool(
            re.search(rb"[\xc2-\xf4][\x80-\xbf]", raw[exc.end:]))
        if utf8_elsewhere:
            line = raw[:exc.start].count(b"\n") + 1
            warnings.warn(f"{path}: line {line} holds bytes that are not UTF-8 in a UTF-8 "
                          "file; read as Windows-1252 (re-save the file as UTF-8)",
                          UserWarning, stacklevel=3)
    return text


def read_text(path):
    """The file's text (:func:`decode`): a regular file of at most
    :data:`MAX_CSV_BYTES` (a FIFO, a device or a larger file is refused before
    anything is read)."""
    try:
        size = regular_file_size(path, "CSV file")
    except OSError as exc:
        raise CLIError(str(exc)) from None
    if size > MAX_CSV_BYTES:
        raise CLIError(f"{path}: {size / 2**30:.1f} GiB, larger than the "
                       f"{MAX_CSV_BYTES // 2**30} GiB the command line reads into memory; "
                       "fit on a sample, or with the Python API on dask arrays")
    with open(path, "rb") as handle:
        raw = handle.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:  # it grew since
        raise CLIError(f"{path}: larger than {MAX_CSV_BYTES // 2**30} GiB")
    text = decode(raw, path)
    if "\0" in text[:4096]:
        raise CLIError(f"{path}: a binary file, not a CSV text file")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise CLIError(f"{path}: the file is empty")
    return text


def _whitespace(line):
    """A line of a space-separated file with its tabs as spaces: pandas splits such a
    file on any run of whitespace, and so must the width checks."""
    return line.replace("\t", " ").strip()


def _split(line, sep):
    line = _whitespace(line) if sep == " " else line
    return next(csv.reader([line], delimiter=sep, skipinitialspace=True), [])


def sniff_separator(lines):
    """The separator that splits the header and the first rows alike (most fields)."""
    best, best_score = ",", (0, 0, 0)
    for rank, sep in enumerate(SEPARATORS):
        counts = [len(_split(line, sep)) for line in lines]
        if counts[0] < 2 and max(counts) < 2:
            continue
        agree = sum(c == counts[0] for c in counts[1:]) if counts[0] > 1 else 0
        mode = max(set(counts[1:] or counts), key=counts.count)
        score = (agree, sum(c == mode for c in counts[1:]) if mode > 1 else 0, -rank)
        if score > best_score:
            best, best_score = sep, score
    return best


def sniff_decimal(lines, sep):
    """',' when the number cells are written with decimal commas, else '.'."""
    if sep == ",":
        return "."
    cells = [cell.strip() for line in lines[1:] for cell in _split(line, sep)]
    commas = sum(bool(_DECIMAL_COMMA.match(c)) for c in cells)
    points = sum(bool(_DECIMAL_POINT.match(c)) for c in cells)
    return "," if commas and not points else "."


def record_lines(path, text, sep, n_names):
    """The line on which each data row starts; a row whose width differs from
    the header's is an error naming its line."""
    starts = []
    lines = (_whitespace(line) for line in io.StringIO(text)) if sep == " " else (
        io.StringIO(text))
    records = _numbered(path, csv.reader(lines, delimiter=sep, skipinitialspace=True))
    header = 0
    for line, fields in records:
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # a blank line
        if not header:
            header = line
            continue
        if len(fields) != n_names:
            name = SEPARATORS.get(sep, repr(sep))
            hint = ("; the header is short of names (the extra fields would be "
                    "dropped): write one name per column"
                    if len(fields) > n_names else "")
            raise CLIError(
                f"{path}: line {line} has {len(fields)} {name}-separated fields but "
                f"the header (line {header}) names {n_names} columns{hint}")
        starts.append(line)
    return np.asarray(starts)


def _numbered(path, reader):
    previous = 0
    try:
        for fields in reader:
            yield previous + 1, fields
            previous = reader.line_num
    except csv.Error as exc:  # pragma: no cover - csv raises past its field limit only,
        # which read_table lifts to the file's size
        raise CLIError(f"{path}: line {reader.line_num}: {exc}") from None


def _clean_name(name):
    name = str(name).strip()
    if len(name) > 1 and name[0] == name[-1] == "'":
        name = name[1:-1].strip()  # 'vote' (statsmodels' anes96.csv)
    return name


class Table:
    """A CSV file read as strings and numbers: ``frame`` (pandas), ``lines``
    (the file line of each row), ``sep`` and ``decimal``."""

    def __init__(self, path, frame, lines, sep, decimal):
        self.path, self.frame, self.lines, self.sep, self.decimal = (
            path, frame, lines, sep, decimal)

    def line(self, row):
        """The file line of ``row`` (a position), as text."""
        return f"line {self.lines[row]}" if self.lines is not None else f"row {row + 1}"

    def column(self, name, option="--target"):
        """The column ``name``, or a one-line error naming the option."""
        if name in self.frame.columns:
            return self.frame[name]
        names = [str(c) for c in self.frame.columns]
        close = difflib.get_close_matches(name, names, n=1) or [
            c for c in names if c.lower() == name.lower()]
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise CLIError(f"{option} {name!r}: {self.path} has no such column{hint} "
                       f"(columns: {', '.join(names)})")


@contextlib.contextmanager
def _field_limit(limit):
    """csv's field size limit raised to ``limit`` in the block (its default, 131072
    characters, would make a long line split on a candidate separator that is not the
    file's an error before the right separator is found)."""
    old = csv.field_size_limit(max(limit, csv.field_size_limit()))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def read_table(path, sep=None, decimal=None, text_columns=(), na_values=()):
    """Read ``path`` into a :class:`Table`; ``text_columns`` stay strings; the cells
    :data:`MISSING` and ``na_values`` are missing, no other."""
    text = read_text(path)
    with _field_limit(len(text) + 1):
        return _read_table(path, text, sep, decimal, text_columns, list(na_values))


def _read_table(path, text, sep, decimal, text_columns, na_values):
    pd = _pandas()
    lines = [line for line in text.split("\n", SAMPLE_LINES + 1)[:SAMPLE_LINES + 1]
             if line.strip()][:SAMPLE_LINES]
    sep = sep or sniff_separator(lines)
    decimal = decimal or sniff_decimal(lines, sep)
    header = [_clean_name(n) for n in _split(lines[0], sep)]
    if sep == decimal:
        raise CLIError(f"the separator and the decimal mark are both {sep!r}: "
                       "set --sep or --decimal")
    names = [name or f"unnamed{k}" for k, name in enumerate(header, 1)]
    counts = collections.Counter(names)
    duplicated = sorted(n for n, count in counts.items() if count > 1)
    if duplicated:
        raise CLIError(f"{path}: line 1 names column(s) {', '.join(map(repr, duplicated))} "
                       "more than once; give every column its own name")
    starts = record_lines(path, text, sep, len(names))
    if not len(starts):
        raise CLIError(f"{path}: no data rows under the header")
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=r"\s+" if sep == " " else sep, decimal=decimal,
            header=0, names=names, index_col=False, skipinitialspace=True,
            na_values=MISSING + na_values, keep_default_na=False,
            dtype={c: str for c in text_columns if c in names},
            low_memory=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise CLIError(f"{path}: not a readable CSV ({' '.join(str(exc).split())})") from None
    unnamed = [n for n in frame.columns if n.startswith("unnamed") and n not in header]
    frame = frame.drop(columns=[n for n in unnamed if frame[n].isna().all()])
    for name in frame.columns.intersection(unnamed):
        warnings.warn(f"{path}: column {name[7:]} has no name in the header; it is called "
                      f"{name!r} (--drop {name} leaves it out)", UserWarning, stacklevel=2)
    lines_of_rows = starts if len(starts) == len(frame) else None
    return Table(path, frame, lines_of_rows, sep, decimal)


def numeric_or_text(table, column, forced_text=False):
    """``"numeric"`` or ``"categorical"`` for a feature column, or a one-line error
    for a numeric column with cells that are not numbers (row, column, value)."""
    values = table.frame[column]
    pd = _pandas()
    if forced_text:
        return "categorical"
    if pd.api.types.is_numeric_dtype(values):  # True/False columns as well
        bad = ~np.isfinite(values.to_numpy(np.float64)) & values.notna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise CLIError(f"{table.path}: {table.line(row)}, column {column!r}: "
                           f"{values.iloc[row]} is not a finite number")
        return "numeric"
    present = values.notna().to_numpy()
    if not present.any():
        return "numeric"  # every cell missing: reported as missing
    text = values.astype(object).to_numpy()
    as_numbers = values.str.replace(",", ".") if table.decimal == "," else values
    numbers = pd.to_numeric(as_numbers, errors="coerce").notna().to_numpy()
    if table.decimal == ".":
        commas = np.array([bool(_DECIMAL_COMMA.match(str(v).strip())) for v in text[present]])
        if commas.any() and commas.mean() > 0.5:
            row = int(np.flatnonzero(present)[np.argmax(commas)])
            raise CLIError(f"{table.path}: {table.line(row)}, column {column!r}: "
                           f"{text[row]!r} has a decimal comma; add --decimal ','")
    if numbers[present].mean() > 0.5:
        row = int(np.flatnonzero(present & ~numbers)[0])
        count = int((present & ~numbers).sum())
        raise CLIError(
            f"{table.path}: {table.line(row)}, column {column!r}: {text[row]!r} is not a "
            f"number ({count} such cell(s) in this column of numbers); fix them, leave "
            f"them empty, or add --na-values {_token(text[row])} if it means missing, or "
            f"--categorical {column}")
    return "categorical"


def _token(value):
    """``value`` as one shell word for a hint."""
    return shlex.quote(printable(str(value)))


def first_missing(table, columns):
    """``(count, message)`` of the missing cells in ``columns`` (None if there are none)."""
    frame = table.frame[list(columns)]
    missing = frame.isna().to_numpy()
    if not missing.any():
        return None
    row, col = np.argwhere(missing)[0]
    per_column = missing.sum(axis=0)
    worst = ", ".join(f"{c} ({n})" for c, n in zip(frame.columns, per_column) if n)
    return (int(missing.sum()), f"{table.line(int(row))}, column {frame.columns[col]!r}; "
            f"missing per column: {worst}")


def labels(table, target):
    """The target column as an array of labels (numbers, or a numpy string array);
    missing labels are an error naming the line."""
    values = table.column(target, "--target")
    missing = values.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise CLIError(f"{table.path}: the target column {target!r} has {missing.sum()} "
                       f"missing cell(s), the first at {table.line(row)}; fill or remove "
                       "those rows")
    pd = _pandas()
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        y = values.to_numpy()
        if y.dtype.kind == "f" and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        return y
    return values.astype(str).to_numpy().astype(str)


def checked_option(name, convert, check, rule):
    """An argparse type: ``convert`` then ``check``, else an error stating ``rule``."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not check(value):
            raise argparse.ArgumentTypeError(f"{rule}; got {text!r}")
        return value
    parse.__name__ = name
    return parse


def hidden_option(text):
    """``--hidden 64,32``."""
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"takes comma-separated integers such as 64,32; got {text!r}") from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be >= 1; got {text!r}")
    return sizes


def class_weight_option(text):
    """``--class-weight balanced`` or ``LABEL:WEIGHT,...`` (labels resolved later)."""
    if text in ("balanced", "none"):
        return None if text == "none" else text
    try:
        return {label.strip(): float(w) for label, w in
                (pair.rsplit(":", 1) for pair in text.split(",")) if float(w) > 0}
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'balanced', 'none' or LABEL:WEIGHT,... with weights > 0; got {text!r}"
        ) from None


def separator_option(text):
    """``--sep``: one character or a name (tab, space, ...)."""
    names = {name: sep for sep, name in SEPARATORS.items()} | {r"\t": "\t"}
    sep = names.get(text.lower(), text)
    if len(sep) != 1 or sep in "\"'\n.":
        raise argparse.ArgumentTypeError(
            f"one character, or one of {', '.join(names)}; got {text!r}")
    return sep


def describe(table, y, numeric, categorical):
    """Print what was read: rows, features, classes, dialect, one-hot columns."""
    n_classes = len(np.unique(y))
    line = (f"{table.path}: {len(y)} rows, {len(numeric) + len(categorical)} features, "
            f"{n_classes} classes ({SEPARATORS.get(table.sep, repr(table.sep))}-separated")
    print(line + (", decimal comma)" if table.decimal == "," else ")"))
    if categorical:
        print("one-hot encoded: " + ", ".join(
            f"{c} ({table.frame[c].nunique()} values)" for c in categorical))


# -- features ---------------------------------------------------------------------


def label_of(text, y, option="--reference-class"):
    """The label of y whose text is ``text`` (labels read from CSV may be numbers)."""
    if text is None:
        return None
    for label in np.unique(y):
        if str(label) == str(text).strip():
            return label
    raise CLIError(f"{option} {text!r} is not one of the labels: "
                   f"{', '.join(map(str, np.unique(y)))}")


def check_target(y, args):
    """A one-line error for a target a classifier cannot learn from."""
    from sklearn.utils.multiclass import type_of_target

    classes, counts = np.unique(y, return_counts=True)
    if type_of_target(y) == "continuous":
        raise CLIError(f"--target {args.target!r} holds {len(classes)} distinct non-integer "
                       "numbers (a continuous quantity); a classifier needs class labels")
    if len(classes) < 2:
        raise CLIError(f"--target {args.target!r} has a single class ({classes[0]}); "
                       "a classifier needs at least two")
    cv = getattr(args, "cv", 0)
    if cv and counts.min() < cv:
        label, count = classes[counts.argmin()], counts.min()
        fix = "--cv 0 to skip cross-validation" if count < 2 else (
            f"--cv {count} (or --cv 0 to skip cross-validation)")
        raise CLIError(f"class {label!s} of --target {args.target!r} has {count} row(s), "
                       f"fewer than the {cv} cross-validation folds (--cv {cv}); use {fix}, "
                       "or remove the class")
    return classes, counts


def feature_columns(table, args, exclude=()):
    """``(numeric, categorical)`` feature column names; one-line errors for options
    naming absent columns and for text columns that look like identifiers."""
    for option in ("drop", "categorical"):
        for name in getattr(args, option):
            table.column(name, f"--{option}")
    if getattr(args, "id", None):
        table.column(args.id, "--id")
    skip = set(args.drop) | {c for c in exclude if c}
    numeric, categorical = [], []
    n_rows = len(table.frame)
    for name in table.frame.columns:
        if name in skip:
            continue
        forced = name in args.categorical
        if numeric_or_text(table, name, forced) == "numeric":
            numeric.append(name)
            continue
        distinct = table.frame[name].nunique()
        if not forced and distinct > 50 and distinct > n_rows / 2:
            raise CLIError(
                f"{table.path}: column {name!r} has {distinct} distinct text values in "
                f"{n_rows} rows (an identifier or free text?); use --id {name} or --drop "
                f"{name}, or --categorical {name} to one-hot encode it anyway")
        categorical.append(name)
    if not numeric and not categorical:
        raise CLIError(f"{table.path}: no feature columns left besides the target, --id "
                       "and --drop columns")
    return numeric, categorical


def refuse_missing(table, columns, impute, hint=None):
    """A one-line error for missing feature cells unless they are imputed."""
    found = first_missing(table, columns)
    if found and not impute:
        count, where = found
        hint = hint or "add --impute median (or most_frequent), or --drop the column"
        raise CLIError(f"{table.path}: {count} missing cell(s) (empty, '?', NA or "
                       f"--na-values), the first at {where}; fill them, {hint}")
    return found


def make_features(numeric, categorical, impute, base_levels=None):
    """The ColumnTransformer: numeric columns scaled, text columns one-hot encoded,
    missing cells imputed with indicator columns (text: a level "(missing)").

    With ``base_levels`` (the summary's unpenalised fit): numeric columns as they
    are, one-hot columns without their base level, imputation without indicators
    (an indicator of a few rows would have no finite estimate).
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    summary, steps = base_levels is not None, []
    if numeric:
        scale = [] if summary else [StandardScaler()]
        if impute:
            scale.insert(0, SimpleImputer(strategy=impute, add_indicator=not summary))
        steps.append(("numeric", make_pipeline(*scale) if scale else "passthrough",
                      list(numeric)))
    if categorical:
        encode = (OneHotEncoder(drop=list(base_levels), sparse_output=False) if summary
                  else OneHotEncoder(handle_unknown="ignore"))
        if impute:
            encode = make_pipeline(SimpleImputer(strategy="most_frequent") if summary else
                                   SimpleImputer(strategy="constant", fill_value="(missing)"),
                                   encode)
        steps.append(("categorical", encode, list(categorical)))
    return ColumnTransformer(steps, verbose_feature_names_out=False,
                             sparse_threshold=0 if summary else 0.3)


# -- output files ------------------------------------------------------------------

#: Control characters (C0 but tab and newline, DEL, C1): a terminal acts on them (ANSI
#: escapes set its title or clear it), a CSV reader may stop at them (NUL).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

#: Spreadsheets read a cell that begins with one of these as a formula (OWASP's
#: "CSV injection"); such a cell is written with a leading apostrophe, as they expect.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def printable(value):
    """``str(value)`` with every control character written as ``\\xNN`` (for the
    terminal: text from a file never drives it)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


def csv_cell(value):
    """A text cell safe in a spreadsheet: control characters escaped
    (:func:`printable`), and a leading ``'`` where it would begin a formula (a number
    such as ``-1.5`` is left alone)."""
    if not isinstance(value, str):
        return value
    text = printable(value)
    if text.startswith(FORMULA_START):
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text


def check_output(path, option, inputs=(), force=False, stdout=False):
    """Refuse an output path that is (the same file as) an input, a symbolic link,
    a directory, anything else that is not a regular file (a device such as /dev/null,
    a FIFO, a socket: even with ``--force``), or an existing file without ``--force``.
    ``-`` is the standard output where ``stdout`` allows it (returned as None)."""
    if path is None or (stdout and path == "-"):
        return None
    path = os.fspath(path)
    real = os.path.realpath(path)
    for source in inputs:
        if source is None:
            continue
        same = real == os.path.realpath(source)
        if not same and os.path.exists(path) and os.path.exists(source):
            same = os.path.samefile(path, source)
        if same:
            raise CLIError(f"{option} {path}: that is an input file of this command; "
                           "write to another name")
    if os.path.islink(path):
        raise CLIError(f"{option} {path}: is a symbolic link; refusing to write through "
                       "it (give the real path)")
    if os.path.isdir(path):
        raise CLIError(f"{option} {path}: is a directory")
    if os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode):
        or_dash = " or - (the standard output)" if stdout else ""
        raise CLIError(f"{option} {path}: is not a regular file (a device, a FIFO or a "
                       f"socket); write to a regular file{or_dash}")
    if os.path.exists(path) and not force:
        raise CLIError(f"{option} {path}: the file exists; add --force to replace it")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CLIError(f"{option} {path}: no such folder {folder}")
    return path


def write_atomic(path, write):
    """Call ``write(handle)`` on a temporary file beside ``path``, then rename it
    onto ``path``: an interrupted write leaves no half file."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        write(handle)
