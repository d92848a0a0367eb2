"""EHR adapters around the pure scoring core.

- ``fhir_in``: FHIR R4 resources (Bundle / prefetch) -> flat scoring payload + basis + warnings.
- ``fhir_out``: scoring response -> FHIR R4 ``RiskAssessment`` (built with ``fhir.resources.R4B``).
- ``cds_hooks``: CDS Hooks 2.0 discovery, prefetch completion and card building.
- ``blueprint``: the Flask blueprint ``bp`` exposing all of it.

The core never imports anything from here; everything FHIR-specific stays in this package.
"""
