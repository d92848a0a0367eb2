"""Marshmallow descriptions of the responses, used to publish the contract (JSON Schema,
OpenAPI) and by tests that check real responses against it. Requests use
:func:`riskservice.core.schema.build_patient_schema`."""
from marshmallow import Schema, fields

Raw = fields.Raw


class ContributionOut(Schema):
    factor = fields.String(required=True)
    label = fields.String(required=True)
    input = fields.String(required=True)
    value = Raw(required=True, metadata={"description": "The value as given (or the matched medication entries)."})
    unit = fields.String(allow_none=True, required=True, metadata={"description": "Unit as given (or assumed)."})
    canonical_value = Raw(required=True)
    canonical_unit = fields.String(allow_none=True, required=True)
    band = fields.String(required=True)
    band_label = fields.String(required=True)
    points = fields.Integer(required=True)
    band_points = fields.Integer(metadata={"description": "Points of the band when an exclusive group zeroed them."})
    diabetes_range = fields.Boolean(metadata={
        "description": "True on glycaemia contributions when a value is in the diabetes range (text says so)."})
    rule = fields.String(required=True)
    population = fields.String(required=True)
    modifiable = fields.Boolean(required=True)
    mechanisms = fields.List(fields.String(), required=True)
    references = fields.List(fields.String(), required=True)
    effect = fields.Dict()
    evidence = fields.String()
    note = fields.String()
    warning = fields.String()
    text = fields.String(required=True, metadata={
        "description": "The factor's stored text for the requested audience (clinician_text or patient_text)."})


class RulesOut(Schema):
    points = fields.Integer(required=True)
    max_points = fields.Integer(required=True)
    band = fields.String(required=True, metadata={"enum": ["low", "moderate", "high", "very_high"]})
    base_relative_risk = fields.Float(required=True)
    contributions = fields.List(fields.Nested(ContributionOut), required=True)
    lower_bound = fields.Boolean(required=True)
    band_if_missing_were_maximal = fields.String()
    lower_bound_statement = fields.String()


class IndexOut(Schema):
    name = fields.String(required=True)
    value = fields.Float(required=True)
    formula = fields.String(required=True)
    direction = fields.String(required=True)
    flagged = fields.Boolean(allow_none=True, required=True)
    cutoff = fields.Dict(allow_none=True, required=True)
    interpretation = fields.String(required=True)
    alternative_cutoffs = fields.List(fields.Dict())
    references = fields.List(fields.String(), required=True)


class EstablishedOut(Schema):
    name = fields.String(required=True)
    outcome = fields.String(required=True)
    complete = fields.Boolean(required=True)
    points = fields.Integer(required=True)
    points_range = fields.List(fields.Integer())
    category = fields.String(allow_none=True, required=True)
    category_range = fields.List(fields.String())
    items = fields.List(fields.Dict(), required=True)
    missing = fields.List(fields.Dict(), required=True)
    note = fields.String()
    references = fields.List(fields.String(), required=True)


class MechanismOut(Schema):
    rank = fields.Integer(required=True)
    id = fields.String(required=True)
    name = fields.String(required=True)
    weight = fields.Float(required=True)
    share_of_points = fields.Float(required=True)
    factors = fields.List(fields.Dict(), required=True)
    supporting_indices = fields.List(fields.Dict(), required=True)
    chain = fields.List(fields.String(), required=True)
    explanation = fields.String(required=True)
    text = fields.String(required=True, metadata={
        "description": "The mechanism's stored text for the requested audience."})
    references = fields.List(fields.String(), required=True)


class ReferenceOut(Schema):
    number = fields.Integer(required=True, metadata={
        "description": "Citation number: [n] in the explanation is the reference with number n (item n of the list)."})
    id = fields.String(required=True)
    citation = fields.String(required=True)
    pmid = fields.String()
    doi = fields.String()
    pmcid = fields.String()
    url = fields.String()
    identifier_status = fields.String(required=True)
    note = fields.String()
    in_explanation = fields.Boolean(required=True, metadata={
        "description": "True when the explanation cites it; the others are cited by id in the structured parts."})


class SummaryMetaOut(Schema):
    """Versions and ids stamped on every answer."""
    service_version = fields.String(required=True)
    ruleset_version = fields.String(required=True)
    ruleset_sha256 = fields.String(required=True)
    disclaimer_id = fields.String(required=True)
    request_id = fields.String(allow_none=True, required=True)
    model_id = fields.String()
    model_version = fields.String()
    audience = fields.String(required=True, metadata={"enum": ["clinician", "patient"]})


class MetaOut(SummaryMetaOut):
    """The full answer's meta: the summary's plus the review status of the knowledge used."""
    review_status = fields.String(required=True, allow_none=True, metadata={
        "enum": ["draft", "under_review", "approved", None],
        "description": "Lowest clinical review status among the knowledge entries this result used."})
    review_lowest_entries = fields.List(fields.String(), required=True, metadata={
        "description": "The entries that hold the lowest status, e.g. factor_band:bmi/variant3/obese."})
    review_counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class PercentileOut(Schema):
    value = fields.Float(required=True, metadata={"description": "The patient's value, in the canonical unit."})
    unit = fields.String(required=True, allow_none=True)
    percentile = fields.Float(required=True, metadata={
        "description": "1-99, read back from the stored 1st..99th percentiles by linear interpolation."})
    beyond = fields.String(required=True, allow_none=True, metadata={
        "enum": ["below", "above", None], "description": "below the 1st or above the 99th percentile, else null"})
    sex = fields.String(required=True)
    age_band = fields.String(required=True)
    p10 = fields.Float(required=True, metadata={"description": "The group's 10th percentile."})
    p90 = fields.Float(required=True, metadata={"description": "The group's 90th percentile."})
    n = fields.Integer(required=True, metadata={"description": "People in the group (unweighted)."})
    text = fields.String(required=True, metadata={
        "description": "e.g. 'Fasting insulin at the 85th percentile of US women aged 40-49 without diabetes'"})


class ScoreOut(Schema):
    applicable = fields.Boolean(required=True, metadata={
        "description": "False when the score does not apply (known diabetes, pregnancy): then rules and model are "
                       "null and not_applicable says why."})
    not_applicable = fields.List(fields.Dict(), required=True, metadata={
        "description": "Why the score does not apply: items {field, reason}; empty when it applies."})
    diabetes_range = fields.Boolean(required=True, metadata={
        "description": "A value meets a diagnostic threshold for diabetes (HbA1c >= 6.5% / 48 mmol/mol or fasting "
                       "glucose >= 126 mg/dL / 7.0 mmol/L, ADA); the first warning says so and asks for confirmation."})
    rules = fields.Nested(RulesOut, required=True, allow_none=True)
    indices = fields.Dict(keys=fields.String(), values=fields.Nested(IndexOut), required=True)
    established = fields.Dict(keys=fields.String(), values=fields.Nested(EstablishedOut), required=True)
    mechanisms = fields.List(fields.Nested(MechanismOut), required=True)
    model = fields.Dict(allow_none=True, required=True,
                        metadata={"description": "Model probability and contributions, or null when the model is off."})
    missing = fields.List(fields.Dict(), required=True)
    percentiles = fields.Dict(keys=fields.String(), values=fields.Nested(PercentileOut), metadata={
        "description": "Where each measured value (bmi, waist, fasting_insulin, homa_ir, triglycerides, "
                       "hdl_cholesterol, hba1c, fasting_glucose) stands among US adults of the same sex and age "
                       "band without diabetes: survey-weighted NHANES 2015-2018 percentiles "
                       "(knowledge/percentiles.json, generated by riskservice derive-percentiles). Only values "
                       "given (or worked out) with a reference group (age 20 and over) are listed."})
    assumed = fields.List(fields.Dict(), required=True)
    warnings = fields.List(fields.Dict(), required=True)
    explanation = fields.String(required=True, metadata={
        "description": "Markdown narrative for the audience: factors -> mechanisms -> shared chain -> "
                       "consequences, and what is missing; [n] cites references item n."})
    references = fields.List(fields.Nested(ReferenceOut), required=True)
    disclaimer = fields.String(required=True)
    meta = fields.Nested(MetaOut, required=True)



class ScoreStandardOut(ScoreOut):
    """view=standard: the full answer without the narrative and the reference list."""

    class Meta:
        exclude = ("explanation", "references")


class ProbabilityOut(Schema):
    value = fields.Float(required=True, metadata={"description": "Model probability of the outcome (0-1)."})
    outcome = fields.String(required=True, metadata={
        "description": "What the probability is of (the model's outcome expression; full definition in view=full)."})


class SummaryMechanismOut(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True, metadata={"description": "Plain-language name for audience=patient."})
    weight = fields.Integer(required=True)


class ScoreSummaryOut(Schema):
    """view=summary: at most 2 kB for a typical patient, read straight from the engine's arrays."""
    view = fields.String(required=True, metadata={"enum": ["summary"]})
    applicable = fields.Boolean(required=True, metadata={
        "description": "False (known diabetes, pregnancy): only not_applicable, diabetes_range, disclaimer and meta."})
    not_applicable = fields.List(fields.Dict(), metadata={"description": "Why the score does not apply."})
    diabetes_range = fields.Boolean(required=True, metadata={
        "description": "A value meets a diagnostic threshold for diabetes; warnings then says so."})
    warnings = fields.List(fields.Dict(), metadata={"description": "Only the critical one: the diabetes range."})
    points = fields.Integer()
    max_points = fields.Integer()
    band = fields.String()
    lower_bound = fields.Boolean(metadata={
        "description": "True when missing factors could add points: points is a lower bound."})
    band_if_missing_were_maximal = fields.String(metadata={"description": "Only when lower_bound is true."})
    probability = fields.Nested(ProbabilityOut, allow_none=True, metadata={
        "description": "null when the model is off."})
    flagged_indices = fields.Dict(keys=fields.String(), values=fields.Float(), metadata={
        "description": "Surrogate indices beyond their cut-off: index id -> value."})
    mechanisms = fields.List(fields.Nested(SummaryMechanismOut), metadata={
        "description": "The top three mechanisms by weight."})
    missing_inputs = fields.List(fields.String(), metadata={
        "description": "Inputs not given that a factor applying to this patient or an index needs."})
    disclaimer = fields.String(required=True)
    meta = fields.Nested(SummaryMetaOut, required=True)


class ProblemOut(Schema):
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    instance = fields.String(required=True)
    request_id = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "Every problem, keyed by field (422)."})
    known_fields = fields.List(fields.String())
    unapproved_entries = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "503 with REQUIRE_APPROVED on: each used entry below approved, with its status."})
    reasons = fields.List(fields.String(), metadata={"description": "503 from /readyz: why the service is not ready."})


class ReadyOut(Schema):
    status = fields.String(required=True, metadata={"enum": ["ready"]})
    knowledge = fields.Dict(required=True, metadata={"description": "ruleset_version, ruleset_sha256, state"})
    model = fields.Dict(required=True, metadata={
        "description": "state loaded (model_id, version, sha256) or off (RISKSERVICE_MODEL=off: ready, model null)"})


class HealthOut(Schema):
    status = fields.String(required=True, metadata={"enum": ["ok"]})
