"""FHIR R4 resources -> the core's flat input payload.

Pure functions over plain JSON dicts (no Flask), one module per resource type. Resources are
checked with the ``fhir.resources.R4B`` models first; a resource that does not parse is reported
as unmappable, never silently dropped. The mapping itself (which code means which input, which
UCUM units are accepted) lives in ``ehr/mapping/*.json`` (:mod:`.tables`).

Result of :func:`map_resources`:

- ``payload``: flat dict for the core (``age``, ``sex``, ``weight`` + ``weight_unit``...);
- ``basis``: references (``Observation/abc``) of every resource whose data went into the payload;
- ``unmapped``: OperationOutcome-style issues (``severity``, ``code``, ``diagnostics``,
  ``expression``) for every resource, or part of one, that was not used, with the reason;
- ``assumptions``: things the adapter had to assume (partial birth date, unknown degree...).
"""
from .bundle import map_bundle, map_resources, resources_from_bundle, validate_resource
from .helpers import age_on, parse_as_of
from .medications import DrugResolver, medication_concept, resolve_medication
from .result import BundleError, Lookback, MappingResult
from .tables import tables

__all__ = ["BundleError", "DrugResolver", "Lookback", "MappingResult", "age_on", "map_bundle",
           "map_resources", "medication_concept", "parse_as_of", "resolve_medication",
           "resources_from_bundle", "tables", "validate_resource"]
