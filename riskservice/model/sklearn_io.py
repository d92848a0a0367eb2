"""The scikit-learn side of the artifact: the joblib file and its export to the JSON serving file.

Used by training, by ``riskservice train --export-json`` and by tests; never by serving (see
:mod:`riskservice.model.artifact`). joblib files are pickles, so ``load_pipeline`` hashes the file
and compares with the manifest BEFORE ``joblib.load``, and refuses another scikit-learn version.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from . import feature_columns as FC
from . import features as F
from .artifact import (
    SERVING_FORMAT,
    SERVING_FORMAT_VERSION,
    ModelLoadError,
    ModelSelfCheckError,
    ModelVersionError,
    find_manifest,
    manifest_file,
    probe_columns,
    read_manifest,
    sha256_file,
    verify_sha256,
)
from .predict import PROBES

STEP_NAMES = ("impute", "scale", "logreg")
SERVING_SUFFIX = ".json"


def load_pipeline(models_dir, manifest: str | Path | None = None):
    """(verified Pipeline, manifest, manifest path) for the joblib in ``models_dir``."""
    mpath = Path(manifest) if manifest is not None else find_manifest(Path(models_dir))
    m = read_manifest(mpath)
    apath = manifest_file(mpath, m["artifact"], "artifact")
    verify_sha256(apath, m["artifact"], mpath, "joblib files are pickles and can run code")

    import joblib
    import sklearn
    from sklearn.exceptions import InconsistentVersionWarning

    want, have = m["versions"].get("sklearn"), sklearn.__version__
    if want != have:
        raise ModelVersionError(
            f"refusing to load model artifact {apath}: it was trained with scikit-learn {want} but "
            f"scikit-learn {have} is installed. Install scikit-learn=={want} or retrain with `riskservice train`.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        try:
            pipe = joblib.load(apath)
        except InconsistentVersionWarning as exc:
            raise ModelVersionError(
                f"refusing to use model artifact {apath}: {exc}. Retrain with `riskservice train`.") from exc

    fill, mean, scale, coef, intercept = extract_parameters(pipe, apath)
    if len(m["terms"]) != coef.size:
        raise ModelSelfCheckError(
            f"{apath}: the Pipeline has {coef.size} inputs but the manifest lists {len(m['terms'])} terms")
    for key, arr in (("impute_value", fill), ("scaler_mean", mean), ("scaler_scale", scale), ("coef", coef)):
        man = np.array([t[key] for t in m["terms"]], dtype="float64")
        if not np.allclose(man, arr, rtol=1e-12, atol=1e-12):
            raise ModelSelfCheckError(f"{apath}: manifest {key} values disagree with the Pipeline")
    if not np.isclose(float(m["intercept"]), intercept, rtol=1e-12, atol=1e-12):
        raise ModelSelfCheckError(f"{apath}: manifest intercept disagrees with the Pipeline")
    return pipe, m, mpath


def extract_parameters(pipe, where="pipeline"):
    """(fill, mean, scale, coef, intercept) as numpy/python values, after checking the structure."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if not isinstance(pipe, Pipeline) or tuple(pipe.named_steps) != STEP_NAMES:
        raise ModelSelfCheckError(f"{where}: expected Pipeline{STEP_NAMES}, got {type(pipe).__name__}")
    imp, sc, lr = (pipe.named_steps[s] for s in STEP_NAMES)
    if not (isinstance(imp, SimpleImputer) and isinstance(sc, StandardScaler) and isinstance(lr, LogisticRegression)):
        raise ModelSelfCheckError(f"{where}: unexpected step types")
    if imp.add_indicator or imp.strategy != "mean":
        raise ModelSelfCheckError(f"{where}: the imputer must be mean imputation without indicators")
    if list(lr.classes_) != [0, 1] or lr.coef_.shape[0] != 1:
        raise ModelSelfCheckError(f"{where}: expected a binary LogisticRegression with classes [0, 1]")
    n = lr.coef_.shape[1]
    fill = np.asarray(imp.statistics_, dtype="float64")
    mean = np.asarray(sc.mean_ if sc.with_mean else np.zeros(n), dtype="float64")
    scale = np.asarray(sc.scale_ if sc.with_std else np.ones(n), dtype="float64")
    coef = np.asarray(lr.coef_[0], dtype="float64")
    if not (fill.size == mean.size == scale.size == n):
        raise ModelSelfCheckError(f"{where}: step sizes differ ({fill.size}, {mean.size}, {scale.size}, {n})")
    return fill, mean, scale, coef, float(lr.intercept_[0])


def save_artifact(pipe, path: Path) -> str:
    """Write the Pipeline in joblib's uncompressed format and return its sha256.

    Pickle normally writes a string once and then refers back to it when the *same object* appears
    again, and which equal strings are the same object depends on the process (string interning).
    The pickler below never memoises strings, so the bytes depend only on the values (which can
    still differ in the last bits between CPUs); the file is a normal joblib file for ``joblib.load``.
    """
    from joblib.numpy_pickle import NumpyPickler

    class _ValuePickler(NumpyPickler):
        def memoize(self, obj):
            if type(obj) is str:
                return
            super().memoize(obj)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        _ValuePickler(fh).dump(pipe)
    return sha256_file(path)


def serving_document(pipe, manifest: dict, joblib_sha: str) -> dict:
    """The JSON serving file's content: every number ``LoadedModel`` computes with.

    Floats are written by ``json`` as the shortest text that reads back to the same float64, so
    the JSON holds exactly the Pipeline's values.
    """
    fill, mean, scale, coef, intercept = extract_parameters(pipe)
    names = [t["name"] for t in manifest["terms"]]
    if len(names) != coef.size:
        raise ModelSelfCheckError(f"the Pipeline has {coef.size} inputs but the manifest lists {len(names)} terms")
    return {
        "format": SERVING_FORMAT,
        "format_version": SERVING_FORMAT_VERSION,
        "model_id": manifest["model_id"],
        "version": manifest["version"],
        "exported_from": {"file": manifest["artifact"]["file"], "sha256": joblib_sha},
        "formula": "z_j = (x_j - scaler_mean_j) / scaler_scale_j, x_j = impute_value_j when missing; "
                   "logit = intercept + sum_j coef_j * z_j; probability = 1 / (1 + exp(-logit))",
        "terms": [
            {"name": n, "impute_value": float(fill[k]), "scaler_mean": float(mean[k]),
             "scaler_scale": float(scale[k]), "coef": float(coef[k])}
            for k, n in enumerate(names)
        ],
        "intercept": intercept,
        "training_ranges": manifest.get("training_ranges", {}),
    }


def probe_expectations(pipe, manifest: dict) -> dict:
    """The manifest's self-check: PROBES with the probabilities ``predict_proba`` gives for them."""
    idx = [F.TERM_INDEX[t["name"]] for t in manifest["terms"]]
    X = FC.engineer_columns(probe_columns(list(PROBES)), len(PROBES))[:, idx]
    p = pipe.predict_proba(X)[:, 1]
    return {
        "what": "probabilities from predict_proba of the joblib at export; load_model compares its own "
                "predictions for these inputs with them",
        "probes": [{"input": dict(probe), "probability": float(v)} for probe, v in zip(PROBES, p)],
    }


def write_serving_file(pipe, manifest: dict, out: Path, joblib_sha: str) -> dict:
    """Write ``<id>-<version>.json`` next to the joblib; return the manifest's ``serving`` entry."""
    name = f"{manifest['model_id']}-{manifest['version']}{SERVING_SUFFIX}"
    path = Path(out) / name
    doc = serving_document(pipe, manifest, joblib_sha)
    path.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return {
        "file": name, "sha256": sha256_file(path),
        "format": f"{SERVING_FORMAT} v{SERVING_FORMAT_VERSION}: plain JSON of the Pipeline's numbers; the service "
                  "loads only this file (no unpickling, no scikit-learn)",
        "self_check": probe_expectations(pipe, manifest),
    }


def with_serving(manifest: dict, serving: dict) -> dict:
    """The manifest with its ``serving`` entry placed right after ``artifact``."""
    out = {}
    for k, v in manifest.items():
        if k == "serving":
            continue
        out[k] = v
        if k == "artifact":
            out["serving"] = serving
    return out


def write_manifest(manifest: dict, path: Path) -> None:
    Path(path).write_text(json.dumps(manifest, indent=2, sort_keys=False, allow_nan=False) + "\n", encoding="utf-8")


def export_json(models_dir) -> dict:
    """Write the JSON serving file for the (verified) joblib in ``models_dir`` and record it in the manifest.

    Does not retrain: the joblib, its sha256 and every other manifest field stay as they are.
    """
    pipe, m, mpath = load_pipeline(models_dir)
    serving = write_serving_file(pipe, m, mpath.parent, m["artifact"]["sha256"])
    m = with_serving(m, serving)
    write_manifest(m, mpath)
    from .artifact import load_model

    try:
        load_model(models_dir, manifest=mpath)
    except ModelLoadError as exc:  # pragma: no cover - would be a bug in the export itself
        raise ModelSelfCheckError(f"the exported JSON does not load: {exc}") from exc
    return m
