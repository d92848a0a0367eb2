"""Saving and (safely) loading the model artifact.

joblib files are pickles: loading one can run arbitrary code. So ``load_model``:

1. reads the JSON manifest and the artifact's sha256 from it;
2. hashes the artifact and refuses (``ModelIntegrityError``) on mismatch, BEFORE ``joblib.load``;
3. refuses (``ModelVersionError``) when the installed scikit-learn differs from the manifest's, and
   turns sklearn's ``InconsistentVersionWarning`` into that error during the load;
4. checks the Pipeline's structure, extracts the imputer fill values, scaler means/scales,
   coefficients and intercept, and compares them with the manifest;
5. self-checks the fast path against ``predict_proba`` on fixed probe rows (``ModelSelfCheckError``).
"""
from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .predict import PROBES, LoadedModel

MANIFEST_SUFFIX = ".manifest.json"
STEP_NAMES = ("impute", "scale", "logreg")
SELF_CHECK_TOL = 1e-9


class ModelLoadError(RuntimeError):
    """The model could not be loaded safely; the message says why and what to do."""


class ModelIntegrityError(ModelLoadError):
    """The artifact's sha256 does not match the manifest (tampered, truncated or wrong file)."""


class ModelVersionError(ModelLoadError):
    """The installed scikit-learn is not the version the artifact was trained with."""


class ModelSelfCheckError(ModelLoadError):
    """The extracted coefficients do not reproduce the Pipeline (or the manifest)."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            b = fh.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def find_manifest(models_dir: Path) -> Path:
    models_dir = Path(models_dir)
    found = sorted(models_dir.glob("*" + MANIFEST_SUFFIX))
    if not found:
        raise ModelLoadError(f"no model manifest (*{MANIFEST_SUFFIX}) in {models_dir}")
    if len(found) > 1:
        raise ModelLoadError(
            f"more than one model manifest in {models_dir}: {[p.name for p in found]}; pass manifest= explicitly"
        )
    return found[0]


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


def _installed_versions() -> dict:
    import sklearn

    return {"sklearn": sklearn.__version__}


def load_model(models_dir, manifest: str | Path | None = None) -> LoadedModel:
    """Verify and load the model in ``models_dir``; raise a ``ModelLoadError`` subclass on any doubt."""
    models_dir = Path(models_dir)
    mpath = Path(manifest) if manifest is not None else find_manifest(models_dir)
    m = read_manifest(mpath)

    fname = m["artifact"].get("file", "")
    if not fname or Path(fname).name != fname:
        raise ModelLoadError(f"manifest {mpath}: artifact file must be a plain file name, got {fname!r}")
    apath = mpath.parent / fname
    if not apath.is_file():
        raise ModelLoadError(f"model artifact {apath} named by {mpath} does not exist")
    expected = str(m["artifact"].get("sha256", "")).lower()
    actual = sha256_file(apath)
    if actual != expected:
        raise ModelIntegrityError(
            f"refusing to load model artifact {apath}: its sha256 is {actual} but the manifest {mpath} "
            f"says {expected}. The file was modified, truncated or replaced; joblib files are pickles and "
            f"can run code, so it was NOT loaded. Restore the shipped models/ directory or retrain with "
            f"`riskservice train`."
        )

    want = m["versions"].get("sklearn")
    have = _installed_versions()["sklearn"]
    if want != have:
        raise ModelVersionError(
            f"refusing to load model artifact {apath}: it was trained with scikit-learn {want} but "
            f"scikit-learn {have} is installed. Install scikit-learn=={want} or retrain with `riskservice train`."
        )

    import joblib
    from sklearn.exceptions import InconsistentVersionWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        try:
            pipe = joblib.load(apath)
        except InconsistentVersionWarning as exc:
            raise ModelVersionError(
                f"refusing to use model artifact {apath}: {exc}. Retrain with `riskservice train`."
            ) from exc

    fill, mean, scale, coef, intercept = extract_parameters(pipe, apath)
    names = [t["name"] for t in m["terms"]]
    if len(names) != coef.size:
        raise ModelSelfCheckError(
            f"{apath}: the Pipeline has {coef.size} inputs but the manifest lists {len(names)} terms")
    for key, arr in (("impute_value", fill), ("scaler_mean", mean), ("scaler_scale", scale), ("coef", coef)):
        man = np.array([t[key] for t in m["terms"]], dtype="float64")
        if not np.allclose(man, arr, rtol=1e-12, atol=1e-12):
            raise ModelSelfCheckError(f"{apath}: manifest {key} values disagree with the Pipeline")
    if not np.isclose(float(m["intercept"]), intercept, rtol=1e-12, atol=1e-12):
        raise ModelSelfCheckError(f"{apath}: manifest intercept disagrees with the Pipeline")

    model = LoadedModel(manifest=m, fill=fill, mean=mean, scale=scale, coef=coef, intercept=intercept,
                        sha256=actual, pipeline=pipe)
    err = self_check(model, pipe)
    if not err <= SELF_CHECK_TOL:
        raise ModelSelfCheckError(
            f"{apath}: fast path differs from predict_proba by {err:.3g} on the probe rows (> {SELF_CHECK_TOL:g})")
    return model


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


def self_check(model: LoadedModel, pipe) -> float:
    """Largest |fast - predict_proba| over PROBES, also checking predict_frame and the contribution sum."""
    frame = pd.DataFrame(list(PROBES))
    ref = pipe.predict_proba(model.term_matrix(frame))[:, 1]
    fast = np.array([model.predict_one(p)["probability"] for p in PROBES])
    vec = model.predict_frame(frame)
    err = float(max(np.max(np.abs(fast - ref)), np.max(np.abs(vec - ref))))
    for p in PROBES:
        r = model.predict_one(p)
        s = sum(c["log_odds"] for c in r["contributions"])
        err = max(err, abs(s - (r["logit"] - r["baseline_logit"])))
    return err


def save_artifact(pipe, path: Path) -> str:
    """Write the Pipeline in joblib's uncompressed format and return its sha256.

    Reruns must give byte-identical files. Pickle normally writes a string once and then refers back
    to it when the *same object* appears again, and which equal strings are the same object depends on
    the process (string interning). The pickler below never memoises strings, so the bytes depend only
    on the values; the file is a normal joblib file for ``joblib.load``.
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
