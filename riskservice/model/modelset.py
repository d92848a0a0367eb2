"""The models the service evaluates, one per role, loaded together from MODEL_DIR.

``insulin_resistance`` estimates the outcome the points score estimates (HOMA-IR above the
ruleset's cut-off); ``dysglycaemia`` is the second, labelled estimate. Every manifest in the
directory is verified and loaded (:func:`riskservice.model.artifact.load_model`); a role without a
manifest is absent, and the answer says so (``probability`` null with a reason). Numpy only: no
scikit-learn at start-up.
"""
from __future__ import annotations

from pathlib import Path

from .artifact import MANIFEST_SUFFIX, ROLES, ModelLoadError, load_model, manifest_role, read_manifest
from .predict import LoadedModel

ABSENT = "the {what} model is not installed on this server (MODEL_DIR)"
WHAT = {"insulin_resistance": "insulin-resistance", "dysglycaemia": "dysglycaemia"}


class ModelSet:
    """One loaded model (or None) per role, and why a role is absent."""

    def __init__(self, models=()):
        self.by_role: dict[str, LoadedModel] = {}
        for model in models:
            if model.role in self.by_role:
                raise ModelLoadError(f"two {model.role} models: {self.by_role[model.role].model_id} and {model.model_id}")
            self.by_role[model.role] = model
        self.absent = {role: ABSENT.format(what=WHAT[role]) for role in ROLES if role not in self.by_role}

    @property
    def insulin_resistance(self) -> LoadedModel | None:
        return self.by_role.get("insulin_resistance")

    @property
    def dysglycaemia(self) -> LoadedModel | None:
        return self.by_role.get("dysglycaemia")

    def __iter__(self):
        return iter(self.by_role.values())

    def __len__(self):
        return len(self.by_role)

    def __repr__(self) -> str:
        return f"ModelSet({', '.join(f'{r}={m.model_id} {m.version}' for r, m in self.by_role.items())})"


def as_model_set(model) -> ModelSet | None:
    """None (no model), a ModelSet, or one LoadedModel (placed under its role)."""
    if model is None or isinstance(model, ModelSet):
        return model
    if isinstance(model, LoadedModel):
        return ModelSet([model])
    return ModelSet(model)


def load_models(models_dir) -> ModelSet:
    """Every model manifest in ``models_dir``, verified and loaded, one per role; ModelLoadError on
    any doubt (a broken model stops start-up) and when the directory has no model at all."""
    models_dir = Path(models_dir)
    manifests = sorted(models_dir.glob("*" + MANIFEST_SUFFIX))
    if not manifests:
        raise ModelLoadError(f"no model manifest (*{MANIFEST_SUFFIX}) in {models_dir}")
    roles = {}
    for path in manifests:
        role = manifest_role(read_manifest(path), path)
        if role in roles:
            raise ModelLoadError(f"two {role} model manifests in {models_dir}: {roles[role].name} and {path.name}")
        roles[role] = path
    return ModelSet([load_model(models_dir, manifest=path) for path in roles.values()])
