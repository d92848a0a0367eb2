"""Loading the model for serving from plain JSON: no unpickling, no scikit-learn.

Training writes two files for one model, both named with their sha256 in the manifest:

- ``<id>-<version>.joblib``: the fitted scikit-learn Pipeline, for people who use scikit-learn;
- ``<id>-<version>.json``: the Pipeline's numbers (imputer fill values, scaler mean/scale,
  coefficients, intercept) and the training ranges; this is what the service computes with.

``load_model`` imports only the standard library and numpy, and:

1. reads the manifest and hashes both files, refusing (``ModelIntegrityError``) on any mismatch
   before the JSON is parsed; the joblib is hashed, never opened as a pickle;
2. checks the JSON's structure (format, finite numbers, sizes, model id and version, the joblib
   it was exported from) and that its numbers equal the manifest's;
3. self-checks the predictions on the manifest's probe patients against the probabilities that
   scikit-learn's ``predict_proba`` gave for them at export time (``ModelSelfCheckError``).

The scikit-learn side (verified joblib loading, export) lives in :mod:`riskservice.model.sklearn_io`.
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

from .predict import LoadedModel

MANIFEST_SUFFIX = ".manifest.json"
SERVING_FORMAT = "riskservice-logreg-json"
SERVING_FORMAT_VERSION = 1
#: the numbers each term carries in the JSON (and in the manifest, which must agree)
TERM_NUMBERS = ("impute_value", "scaler_mean", "scaler_scale", "coef")
#: JSON predictions vs the probabilities predict_proba gave at export; far above rounding
#: differences between CPUs (about 1e-16) and far below any real change of the model
SELF_CHECK_TOL = 1e-12
#: what a model estimates (its manifest's "role"): the service evaluates one model of each
ROLES = ("insulin_resistance", "dysglycaemia")
#: the role of a manifest written before roles existed (the dysglycaemia model 1.0.0)
DEFAULT_ROLE = "dysglycaemia"


class ModelLoadError(RuntimeError):
    """The model could not be loaded safely; the message says why and what to do."""


class ModelIntegrityError(ModelLoadError):
    """A model file's sha256 does not match the manifest (tampered, truncated or wrong file)."""


class ModelVersionError(ModelLoadError):
    """The installed scikit-learn is not the version the artifact was trained with (joblib only)."""


class ModelSelfCheckError(ModelLoadError):
    """The model's numbers or predictions disagree with the manifest (or the Pipeline)."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            b = fh.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def find_manifest(models_dir: Path, role: str | None = None) -> Path:
    """The one manifest in ``models_dir`` (of ``role``, when given)."""
    models_dir = Path(models_dir)
    found = sorted(models_dir.glob("*" + MANIFEST_SUFFIX))
    if role is not None:
        found = [p for p in found if manifest_role(read_manifest(p), p) == role]
    if not found:
        what = f"{role} model manifest" if role else "model manifest"
        raise ModelLoadError(f"no {what} (*{MANIFEST_SUFFIX}) in {models_dir}")
    if len(found) > 1:
        raise ModelLoadError(
            f"more than one model manifest in {models_dir}: {[p.name for p in found]}; pass role= or manifest="
        )
    return found[0]


def manifest_role(m: dict, where) -> str:
    """What the manifest's model estimates: its "role", or the dysglycaemia model's when absent."""
    role = m.get("role", DEFAULT_ROLE)
    if role not in ROLES:
        raise ModelLoadError(f"model manifest {where}: role {role!r} is not one of {ROLES}")
    return role


def read_manifest(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            m = json.load(fh)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read model manifest {path}: {exc}") from exc
    for key in ("model_id", "version", "artifact", "terms", "intercept", "outcome", "versions"):
        if key not in m:
            raise ModelLoadError(f"model manifest {path} lacks the '{key}' field")
    return m


def manifest_file(mpath: Path, entry: dict, what: str) -> Path:
    """The file a manifest entry names, which must be a plain name next to the manifest."""
    fname = entry.get("file", "") if isinstance(entry, dict) else ""
    if not fname or not isinstance(fname, str) or Path(fname).name != fname:
        raise ModelLoadError(f"manifest {mpath}: {what} file must be a plain file name, got {fname!r}")
    path = mpath.parent / fname
    if not path.is_file():
        raise ModelLoadError(f"model {what} {path} named by {mpath} does not exist")
    return path


def verify_sha256(path: Path, entry: dict, mpath: Path, why: str) -> str:
    """Hash ``path`` and compare with the manifest entry's ``sha256``; return the digest."""
    expected = str(entry.get("sha256", "")).lower()
    actual = sha256_file(path)
    if actual != expected:
        raise ModelIntegrityError(
            f"refusing to load model file {path}: its sha256 is {actual} but the manifest {mpath} "
            f"says {expected}. The file was modified, truncated or replaced; {why}, so it was NOT loaded. "
            f"Restore the shipped models/ directory or retrain with `riskservice train`."
        )
    return actual


def load_model(models_dir, manifest: str | Path | None = None, role: str | None = None) -> LoadedModel:
    """Verify and load the model in ``models_dir`` (the one of ``role`` when several are there) from
    its JSON; raise a ``ModelLoadError`` on any doubt."""
    models_dir = Path(models_dir)
    mpath = Path(manifest) if manifest is not None else find_manifest(models_dir, role)
    m = read_manifest(mpath)
    m["role"] = manifest_role(m, mpath)

    apath = manifest_file(mpath, m["artifact"], "artifact")
    joblib_sha = verify_sha256(apath, m["artifact"], mpath, "joblib files are pickles and can run code")
    serving = m.get("serving")
    if not isinstance(serving, dict):
        raise ModelLoadError(
            f"manifest {mpath} names no JSON serving file ('serving' field); the service does not unpickle "
            f"models. Write it with `riskservice train --export-json --out {mpath.parent}`.")
    jpath = manifest_file(mpath, serving, "serving file")
    verify_sha256(jpath, serving, mpath, "it is the model the service would compute with")
    try:
        doc = json.loads(jpath.read_bytes())
    except ValueError as exc:
        raise ModelLoadError(f"model JSON {jpath} is not valid JSON: {exc}") from exc

    fill, mean, scale, coef, intercept = parse_serving_document(doc, m, joblib_sha, jpath)
    model = LoadedModel(manifest=m, fill=fill, mean=mean, scale=scale, coef=coef, intercept=intercept,
                        sha256=joblib_sha, training_ranges=doc["training_ranges"])
    err = self_check(model, serving.get("self_check"), jpath)
    if not err <= SELF_CHECK_TOL:
        raise ModelSelfCheckError(
            f"{jpath}: predictions differ from the probabilities recorded at export (predict_proba of the joblib) "
            f"by {err:.3g} on the probe patients (> {SELF_CHECK_TOL:g})")
    return model


def _finite(x, where: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise ModelSelfCheckError(f"{where} must be a finite number, got {x!r}")
    return float(x)


def parse_serving_document(doc, m: dict, joblib_sha: str, where) -> tuple:
    """(fill, mean, scale, coef, intercept) from the JSON, after checking it against the manifest."""
    if not isinstance(doc, dict) or doc.get("format") != SERVING_FORMAT:
        raise ModelLoadError(f"{where}: not a {SERVING_FORMAT} document")
    if doc.get("format_version") != SERVING_FORMAT_VERSION:
        raise ModelLoadError(f"{where}: format_version {doc.get('format_version')!r} is not "
                             f"{SERVING_FORMAT_VERSION}; upgrade riskservice or re-export the model")
    for key in ("model_id", "version"):
        if doc.get(key) != m[key]:
            raise ModelSelfCheckError(f"{where}: {key} {doc.get(key)!r} differs from the manifest's {m[key]!r}")
    src = doc.get("exported_from") or {}
    if src.get("file") != m["artifact"]["file"] or src.get("sha256") != joblib_sha:
        raise ModelSelfCheckError(f"{where}: exported from {src!r}, not from the manifest's artifact")
    terms = doc.get("terms")
    if not isinstance(terms, list) or not terms or not all(isinstance(t, dict) for t in terms):
        raise ModelSelfCheckError(f"{where}: 'terms' must be a non-empty list of objects")
    names = [t.get("name") for t in terms]
    if names != [t["name"] for t in m["terms"]]:
        raise ModelSelfCheckError(f"{where}: terms {names} differ from the manifest's")
    cols = {k: np.array([_finite(t.get(k), f"{where}: term {t['name']} {k}") for t in terms]) for k in TERM_NUMBERS}
    if not np.all(cols["scaler_scale"] > 0):
        raise ModelSelfCheckError(f"{where}: scaler_scale must be positive")
    intercept = _finite(doc.get("intercept"), f"{where}: intercept")
    for k in TERM_NUMBERS:
        man = np.array([t[k] for t in m["terms"]], dtype="float64")
        if not np.allclose(man, cols[k], rtol=1e-12, atol=1e-12):
            raise ModelSelfCheckError(f"{where}: {k} values disagree with the manifest")
    if not math.isclose(float(m["intercept"]), intercept, rel_tol=1e-12, abs_tol=1e-12):
        raise ModelSelfCheckError(f"{where}: intercept disagrees with the manifest")
    ranges = doc.get("training_ranges")
    if not isinstance(ranges, dict):
        raise ModelSelfCheckError(f"{where}: 'training_ranges' must be an object")
    for name, r in ranges.items():
        if not isinstance(r, dict) or not isinstance(r.get("unit"), str):
            raise ModelSelfCheckError(f"{where}: training range of {name} needs min, max and unit")
        _finite(r.get("min"), f"{where}: training range {name} min")
        _finite(r.get("max"), f"{where}: training range {name} max")
    return cols["impute_value"], cols["scaler_mean"], cols["scaler_scale"], cols["coef"], intercept


def self_check(model: LoadedModel, check, where) -> float:
    """Largest |prediction - recorded predict_proba| over the probe patients, single and vectorised,
    also checking that each patient's contributions sum to ``logit - baseline_logit``."""
    if not isinstance(check, dict) or not check.get("probes"):
        raise ModelSelfCheckError(f"{where}: the manifest's serving entry has no self_check probes")
    try:
        probes = [dict(p["input"]) for p in check["probes"]]
        want = np.array([_finite(p["probability"], f"{where}: probe probability") for p in check["probes"]])
        results = [model.predict_one(p) for p in probes]
        vec = model.predict_columns(probe_columns(probes), len(probes))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelSelfCheckError(f"{where}: unusable self_check probes in the manifest: {exc!r}") from exc
    single = np.array([r["probability"] for r in results])
    err = float(max(np.max(np.abs(single - want)), np.max(np.abs(vec - want))))
    for r in results:
        s = sum(c["log_odds"] for c in r["contributions"])
        err = max(err, abs(s - (r["logit"] - r["baseline_logit"])))
    return err


def probe_columns(probes: list[dict]) -> dict:
    """Canonical columns (floats with NaN, categories as objects with None) for a few patients."""
    from .features import CANONICAL_INPUTS, CATEGORICAL_INPUTS

    out = {}
    for name in CANONICAL_INPUTS:
        vals = [p.get(name) for p in probes]
        if name in CATEGORICAL_INPUTS:
            out[name] = np.array(vals, dtype=object)
        else:
            out[name] = np.array([np.nan if v is None else float(v) for v in vals], dtype="float64")
    return out
