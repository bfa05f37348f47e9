# SPDX-License-Identifier: Apache-2.0
"""The common case of reading a results file, at C speed: cobench_results.load's fast path.

A file of 10^5 records is 10^7 JSON values; checking them one by one in Python takes tens of
seconds. Here msgspec parses the file and checks the records' types while parsing (in C), and
numpy checks the statistics of all metrics at once. The checks are those of
docs/results.schema.json and of cobench_results (strict JSON, statistics, duplicates); where one
of them cannot vouch for the file, load() returns None (statistics_agree False) and
cobench_results goes the reference way (parse, jsonschema, the per-metric checks), which names
the first problem. So a file is accepted here only if the reference accepts it, and every error
message is the reference's; only a valid file's time changes.

What is checked where:
- strict JSON (no NaN or Infinity, a float beyond a double, a lone surrogate, bytes that are not
  UTF-8, a byte order mark, trailing text): msgspec refuses them while parsing;
- a key repeated in an object: the separators. Outside strings a `:` only separates a key from
  its value, and a string holds a `:` as itself (or as \\u003a, which sends the file the
  reference way), so a file without repeated keys has as many `:` as msgspec's encoding of the
  parsed document (one per member, and those inside strings); a repeated key is a member the
  parse dropped, one `:` (at least) fewer;
- an integer beyond the range of a double (309 digits or more): a run of 309 digits anywhere in
  the text sends the file the reference way;
- the schema: the records by msgspec types below (required fields, no other fields, enums,
  numbers that are not booleans, parameters that are numbers, strings or booleans), the parts
  the types cannot say (a time, size, rate, frequency or power not negative, stddev >= 0,
  peak.value > 0, reference_error >= 0, the statistics all present or none) by numpy; the
  schema and run (one per file) by cobench_results' compiled validator;
- nesting: the records' structure is 6 levels deep; the free-form parts (run, record.extra) are
  typed 11 levels deep at most (cobench writes 6), and a file deeper than that is decoded again
  with them untyped and walked as cobench_results does (to MAX_DEPTH, 100);
- statistics: median, min, max, mean and stddev of each metric's values and peak.fraction, as
  cobench_results._check_statistics computes them, to half its tolerance (the sums here round
  differently, by far less than that margin; a metric within the margin, or with values of
  10^150 or more, is checked by the reference)."""
from __future__ import annotations

import itertools
import math
import operator
import re
from typing import Annotated, Any, Callable, Literal, Union

import msgspec
import numpy as np

MAX_DEPTH = 100  # cobench_results.MAX_DEPTH
NON_NEGATIVE_UNITS = frozenset(("s", "B", "B/s", "FLOP", "1/s", "FLOP/s", "Hz", "W"))
_UNSET = msgspec.UNSET
_Number = Union[int, float]
_Opt = msgspec.UnsetType


def _nested(levels: int):
    """A JSON value with containers at most `levels` deep (a scalar 0, a list of scalars 1)."""
    t = Union[None, bool, int, float, str]
    for _ in range(levels):
        t = Union[None, bool, int, float, str, list[t], dict[str, t]]
    return t


# Free-form parts (the run, a record's `extra`) are typed to a depth that the files cobench
# writes stay within (6 levels; MAX_DEPTH allows 100, which typed out would take msgspec minutes
# to compile): a file deeper than this is decoded again with them untyped, and walked.
_FREE_LEVELS = 10
_Free = _nested(_FREE_LEVELS)


class _Peak(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    name: str
    value: _Number
    fraction: Union[_Number, _Opt] = _UNSET


class _Metric(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    unit: Literal["s", "B", "B/s", "FLOP", "FLOP/s", "1/s", "1", "Hz", "W", "C"]
    values: list[_Number]
    median: Union[_Number, _Opt] = _UNSET
    min: Union[_Number, _Opt] = _UNSET
    max: Union[_Number, _Opt] = _UNSET
    mean: Union[_Number, _Opt] = _UNSET
    stddev: Union[_Number, _Opt] = _UNSET
    peak: Union[_Peak, _Opt] = _UNSET


class _Verification(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    status: Literal["passed", "failed", "error", "not_checked"]
    detail: Union[str, _Opt] = _UNSET
    reference_error: Union[_Number, _Opt] = _UNSET


# A record's suite and benchmark identify it (compare, history, the dashboard): never empty.
_Name = Annotated[str, msgspec.Meta(min_length=1)]


def _file_type(free):
    """The document's type, its free-form parts typed `free`."""

    options = {"forbid_unknown_fields": True, "omit_defaults": True}
    record = msgspec.defstruct("_Record", [
        ("suite", _Name), ("benchmark", _Name),
        ("backend", Literal["cpu", "cuda", "mpi", "nccl"]),
        ("parameters", dict[str, Union[int, float, str, bool]]),
        ("metrics", dict[str, _Metric]), ("verification", _Verification),
        ("extra", Union[dict[str, free], _Opt], _UNSET)], **options)
    return msgspec.defstruct("_File", [("schema", free), ("run", dict[str, free]),
                                       ("records", list[record])], **options)


_DECODERS = None  # (bounded depth, untyped), made on first use


def as_structs(doc: dict) -> dict:
    """A valid document (plain dicts and lists) with its records as the structs load(...,
    builtins=False) gives: for a file the reference accepted, which the types accept too."""
    records = msgspec.structs.fields(_decoders()[1].type)[2].type
    return {**doc, "records": msgspec.convert(doc["records"], records)}


def _decoders() -> tuple[msgspec.json.Decoder, msgspec.json.Decoder]:
    global _DECODERS
    if _DECODERS is None:
        _DECODERS = (msgspec.json.Decoder(_file_type(_Free)),
                     msgspec.json.Decoder(_file_type(Any)))
    return _DECODERS


def _decode(raw: bytes):
    """The document as structs: free-form parts of bounded depth, else untyped and walked as
    cobench_results does (None: deeper than MAX_DEPTH, or not a document of this form)."""
    typed, untyped = _decoders()
    try:
        return typed.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        pass
    try:
        parsed = untyped.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return None
    # cobench_results.MAX_DEPTH counts the document as depth 1: the run is at depth 2, a
    # record's extra at 4 (the document, records, a record, extra).
    extras = [r.extra for r in parsed.records if r.extra is not _UNSET]
    free = [(parsed.run, MAX_DEPTH - 1), ([parsed.schema], MAX_DEPTH), (extras, MAX_DEPTH - 2)]
    return parsed if all(_plain_tree(v, limit) for v, limit in free) else None




def _plain_tree(doc, limit: int) -> bool:
    """cobench_results._plain_tree (imported when first used: cobench_results imports this
    module)."""
    import cobench_results

    return cobench_results._plain_tree(doc, limit)


# cobench_results._CONTROL_IN_JSON on the UTF-8 bytes: a control character, raw or escaped, sends
# the file to the reference, which names it.
_CONTROL_IN_JSON = re.compile(
    rb"\x7f|\xc2[\x80-\x9f]|\xe2\x80[\x8e\x8f\xa8-\xae]|\xe2\x81[\xa6-\xa9]"
    rb"|\\[bfnrt]|\\u(00[01]|007[fF]|00[89]|20(0[eEfF]|2[89a-eA-E])|206[6-9])")
_ENCODER = msgspec.json.Encoder()
# Every byte to b" " but the digits, to b"0": a run of 309 digits is then one find.
_DIGITS = bytes(ord("0") if chr(b).isdigit() and b < 128 else ord(" ") for b in range(256))
_LONG_INTEGER = b"0" * 309  # 10^308 has 309 digits; a double reaches 1.8e308


def load(raw: bytes, header_valid: Callable[[dict], bool],
         builtins: bool = True) -> tuple[dict, "_Metrics"] | None:
    """The document checked but for its statistics (plain dicts and lists, as json.loads gives
    them; without `builtins` its records stay the structs of the parse: the same values, as
    attributes, and no dict made per record and metric) and its metrics for statistics_agree;
    None where the reference must decide."""
    if raw.find(b"\\u003") >= 0 or raw.translate(_DIGITS).find(_LONG_INTEGER) >= 0 or \
            _CONTROL_IN_JSON.search(raw):
        return None
    parsed = _decode(raw)
    if parsed is None:
        return None
    if not header_valid({"schema": parsed.schema, "run": parsed.run, "records": []}):
        return None
    errors = [e for e in map(_REFERENCE_ERROR, map(_VERIFICATION, parsed.records))
              if e is not _UNSET]
    if errors and not min(errors) >= 0:
        return None
    metrics = _Metrics([m for r in parsed.records for m in r.metrics.values()])
    if not metrics.schema_ok():
        return None
    if raw.count(b":") != _separators(parsed):
        return None  # a repeated key
    if builtins:
        return msgspec.to_builtins(parsed), metrics
    return {"schema": parsed.schema, "run": parsed.run, "records": parsed.records}, metrics


_CHUNK = 64  # records encoded at a time by _separators


def _separators(parsed) -> int:
    """The `:` of msgspec's encoding of the parsed document, counted a few records at a time in
    one reused buffer: the same count as that of the whole encoding (a list's encoding is its
    elements' joined by `,`), without writing and touching a text the size of the file."""
    records, buf, count = parsed.records, bytearray(), 0
    for i in range(0, len(records), _CHUNK):
        _ENCODER.encode_into(records[i:i + _CHUNK], buf)
        count += buf.count(b":")
    return count + _ENCODER.encode(msgspec.structs.replace(parsed, records=[])).count(b":")


_VERIFICATION = operator.attrgetter("verification")
_REFERENCE_ERROR = operator.attrgetter("reference_error")
_STATISTICS = ("median", "min", "max", "mean", "stddev")


def _floats(column: list) -> np.ndarray:
    """Numbers as floats, NaN where a metric has none (UNSET): at once where every metric has
    one (UNSET is not a number: numpy refuses it), else one by one."""
    try:
        return np.array(column, dtype=np.float64)
    except TypeError:
        nan = math.nan
        return np.array([nan if v is _UNSET else v for v in column], dtype=np.float64)


class _Metrics:
    """The metrics of a document, a column per field."""

    def __init__(self, metrics: list[_Metric]):
        self.units = list(map(operator.attrgetter("unit"), metrics))
        self.values = list(map(operator.attrgetter("values"), metrics))
        self.stats = {k: list(map(operator.attrgetter(k), metrics)) for k in _STATISTICS}
        self.peaks = list(map(operator.attrgetter("peak"), metrics))

    def schema_ok(self) -> bool:
        """The schema's rules on numbers the types cannot say: the statistics all present or none
        (dependentRequired), stddev >= 0, peak.value > 0, no negative value in a unit that cannot
        be negative."""
        present = [[v is not _UNSET for v in self.stats[k]] for k in _STATISTICS]
        if any(p != present[0] for p in present[1:]):
            return False
        stddev = [v for v in self.stats["stddev"] if v is not _UNSET]
        if stddev and not min(stddev) >= 0:
            return False
        peaks = [p.value for p in self.peaks if p is not _UNSET]
        if peaks and not min(peaks) > 0:
            return False
        flat = list(itertools.chain.from_iterable(
            v for u, v in zip(self.units, self.values) if u in NON_NEGATIVE_UNITS))
        return not flat or min(flat) >= 0


# Half cobench_results._close's tolerance: numpy's sums differ from fsum by far less.
_TOLERANCE = 0.5e-9
_MAX_VALUES = 1000  # per metric, for numpy's sums to stay within that margin
_MAX_MAGNITUDE = 1e150  # cobench_results._FLOAT_STDEV_LIMIT


def _close(stored: np.ndarray, computed: np.ndarray, magnitude: np.ndarray) -> np.ndarray:
    scale = np.maximum(np.maximum(np.abs(stored), np.abs(computed)),
                       np.maximum(magnitude, 1e-300))
    return np.abs(stored - computed) <= _TOLERANCE * scale


def statistics_agree(metrics: _Metrics) -> bool:
    """Whether every metric's stored statistics and peak.fraction agree with its values, as
    cobench_results._check_statistics computes them (to half its tolerance). False: let the
    reference check them (it names the metric, or accepts one within the margin)."""
    lengths = np.fromiter(map(len, metrics.values), dtype=np.int64, count=len(metrics.values))
    has_median = np.array([v is not _UNSET for v in metrics.stats["median"]], dtype=bool)
    if (has_median & (lengths == 0)).any() or (lengths > _MAX_VALUES).any():
        return False
    try:
        flat = np.array(list(itertools.chain.from_iterable(metrics.values)), dtype=np.float64)
    except OverflowError:
        return False
    if flat.size and not np.abs(flat).max() < _MAX_MAGNITUDE:
        return False
    stored = {k: _floats(metrics.stats[k]) for k in _STATISTICS}
    peak_value = _floats([_UNSET if p is _UNSET else p.value for p in metrics.peaks])
    fraction = _floats([_UNSET if p is _UNSET else p.fraction for p in metrics.peaks])
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1])) if lengths.size else lengths
    for n in np.unique(lengths):
        if n == 0:
            continue
        idx = np.nonzero(lengths == n)[0]
        v = np.sort(flat[offsets[idx][:, None] + np.arange(n)], axis=1)
        half = n // 2
        computed = {"median": v[:, half] if n % 2 else (v[:, half - 1] + v[:, half]) / 2,
                    "min": v[:, 0], "max": v[:, -1], "mean": v.mean(axis=1)}
        computed["stddev"] = (np.sqrt(((v - computed["mean"][:, None]) ** 2).sum(axis=1)
                                      / (n - 1)) if n > 1 else np.zeros(len(idx)))
        magnitude = np.maximum(np.abs(v[:, 0]), np.abs(v[:, -1]))
        checked = has_median[idx]
        for key, value in computed.items():
            if not _close(stored[key][idx], value, magnitude)[checked].all():
                return False
        frac = fraction[idx]
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            quotient = computed["median"] / peak_value[idx]
        # A peak whose fraction leaves a double's range: the checked path says which.
        if not np.isfinite(quotient[~np.isnan(peak_value[idx])]).all():
            return False
        ok = _close(frac, quotient, np.zeros(len(idx)))
        if not ok[~np.isnan(frac)].all():
            return False
    return True
