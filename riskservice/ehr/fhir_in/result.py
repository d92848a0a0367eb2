"""What a mapping returns (:class:`MappingResult`), its options (:class:`Lookback`) and its error."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from riskservice.config import DEFAULTS

from .tables import tables


class BundleError(ValueError):
    """The input cannot be read as a FHIR Bundle for one patient (caller answers 400/422)."""


@dataclass(frozen=True)
class Lookback:
    """Look-back windows in days per observation category (see observations.json)."""
    anthropometry: int = 730
    lab: int = 365
    lifestyle: int = 365

    @classmethod
    def from_config(cls, config: dict | None) -> "Lookback":
        """``EHR_LOOKBACK_<CATEGORY>_DAYS`` from the app's config (None: the mapping table's window)."""
        table = tables().observations["lookback_days"]
        config = config or DEFAULTS

        def days(category: str) -> int:
            value = config[f"EHR_LOOKBACK_{category.upper()}_DAYS"]
            return int(table[category] if value is None else value)

        return cls(anthropometry=days("anthropometry"), lab=days("lab"), lifestyle=days("lifestyle"))

    def days(self, category: str) -> int:
        return int(getattr(self, category))


@dataclass
class MappingResult:
    payload: dict = field(default_factory=dict)
    basis: list[str] = field(default_factory=list)
    unmapped: list[dict] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    sources: dict = field(default_factory=dict)      # field -> {"reference", "code", "effective"}
    subject: str | None = None                       # "Patient/<id>"
    as_of: date | None = None

    def use(self, ref: str | None) -> None:
        if ref and ref not in self.basis:
            self.basis.append(ref)

    def issue(self, ref: str | None, diagnostics: str, code: str = "not-supported",
              severity: str = "warning") -> None:
        item = {"severity": severity, "code": code, "diagnostics": diagnostics}
        if ref:
            item["expression"] = [ref]
        self.unmapped.append(item)

    def operation_outcome(self) -> dict:
        """The warnings as a FHIR OperationOutcome (``information`` issue when there are none)."""
        issues = [dict(i) for i in self.unmapped] or [
            {"severity": "information", "code": "informational", "diagnostics": "All supplied resources were mapped."}]
        return {"resourceType": "OperationOutcome", "issue": issues}
