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


#: what points, band and the model probability estimate (since ruleset 2.0.0; before: dysglycaemia)
IR = "insulin resistance, HOMA-IR above the cut-off that `outcome.text` states (ruleset 2.0.0; before, dysglycaemia)"
BANDS = ["low", "moderate", "high", "very_high"]


class RulesOut(Schema):
    points = fields.Integer(required=True, metadata={
        "description": f"The risk-factor points score: an estimate of the likelihood of {IR}."})
    max_points = fields.Integer(required=True)
    band = fields.String(required=True, metadata={"enum": BANDS, "description": (
        f"The band of the points score for {IR}; each band's label gives the observed share with the outcome.")})
    outcome = fields.String(required=True, metadata={
        "description": "What points and band estimate (the ruleset's outcome text)."})
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


class OutcomeOut(Schema):
    id = fields.String(required=True, metadata={"enum": ["insulin_resistance"]})
    text = fields.String(required=True, metadata={"description": "The outcome as every surface names it."})
    short_text = fields.String(required=True)
    cutoff = fields.Float(required=True, metadata={"description": "The HOMA-IR cut-off (the outcome, the index flag)."})
    comparison = fields.String(required=True, metadata={"enum": [">", ">="]})
    population = fields.String(required=True, metadata={"description": "Where the cut-off comes from."})
    references = fields.List(fields.String(), required=True)


class ReasonOut(Schema):
    code = fields.String(required=True, metadata={
        "enum": ["not_fasting", "pregnant", "known_diabetes", "diabetes_range", "glucose_lowering"]})
    text = fields.String(required=True)


HOMA_STATUS = {"enum": ["above", "borderline", "below"], "description": (
    "Against the borderline zone around the cut-off: above it, within it (a repeat may fall on the other side), "
    "or below it.")}


class HomaIrOut(Schema):
    value = fields.Float(required=True, metadata={"description": "HOMA-IR from the given fasting glucose and insulin."})
    valid = fields.Boolean(required=True, metadata={"description": (
        "A valid measurement of the outcome: fasting not false, not pregnant, no known diabetes, not in the "
        "diabetes range, no insulin or insulin-secretagogue treatment. A valid one leads the answer.")})
    invalid_reasons = fields.List(fields.Nested(ReasonOut), required=True)
    cutoff = fields.Float(required=True)
    cutoff_text = fields.String(required=True, metadata={"description": "The outcome's text (the cut-off as worded)."})
    borderline = fields.Dict(required=True, metadata={"description": "{low, high}: the borderline zone."})
    status = fields.String(required=True, metadata=HOMA_STATUS)
    percentile = Raw(required=True, metadata={
        "description": "Where it stands among US adults of the same sex and age band without diabetes (NHANES "
                       "2015-2018): the `percentiles.homa_ir` entry; null when there is no reference group."})
    text = fields.String(required=True)


class MeasuredOut(Schema):
    homa_ir = fields.Nested(HomaIrOut, required=True)
    leads = fields.Boolean(required=True, metadata={"description": "The measurement leads the answer (it is valid)."})
    agreement = fields.String(allow_none=True, required=True, metadata={
        "enum": ["agree", "disagree", None],
        "description": "Whether the risk-factor band agrees with a valid measurement; null when not valid or "
                       "borderline."})
    statement = fields.String(allow_none=True, required=True, metadata={
        "description": "One sentence when the measurement and the estimate disagree."})
    references = fields.List(fields.String(), required=True)


class DysglycaemiaOut(Schema):
    probability = fields.Float(allow_none=True, required=True, metadata={"description": (
        "The dysglycaemia model's probability (0-1) of its own outcome; null when withheld.")})
    outcome = fields.String(required=True, metadata={"description": "What it is a probability of."})
    model_id = fields.String(allow_none=True, required=True)
    version = fields.String(allow_none=True, required=True)
    withheld = fields.String(allow_none=True, required=True, metadata={"description": (
        "Why no probability is shown (the inputs already establish dysglycaemia: HbA1c >= 5.7% or fasting glucose "
        ">= 100 mg/dL, ADA; known diabetes; the model not installed), or null.")})


LEADS = {"enum": ["measured_homa_ir", "risk_factor_estimate", None], "description": (
    "What leads the answer: a valid measured HOMA-IR (the risk-factor estimate follows as context), or the "
    "risk-factor estimate; null when the score does not apply.")}


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
    leads = fields.String(allow_none=True, required=True, metadata=LEADS)
    outcome = fields.Nested(OutcomeOut, required=True, metadata={
        "description": "What points, band and model.probability estimate."})
    measured = fields.Nested(MeasuredOut, allow_none=True, required=True, metadata={
        "description": "The measured HOMA-IR, null unless fasting glucose and insulin are both given."})
    rules = fields.Nested(RulesOut, required=True, allow_none=True)
    indices = fields.Dict(keys=fields.String(), values=fields.Nested(IndexOut), required=True)
    established = fields.Dict(keys=fields.String(), values=fields.Nested(EstablishedOut), required=True)
    mechanisms = fields.List(fields.Nested(MechanismOut), required=True)
    model = fields.Dict(allow_none=True, required=True, metadata={"description": (
        f"The insulin-resistance model: probability (0-1) of {IR}, with contributions; probability null with "
        "`withheld` (why) when HOMA-IR was measured and is valid or the model is not installed; null when the "
        "models are off.")})
    dysglycaemia = fields.Nested(DysglycaemiaOut, allow_none=True, required=True, metadata={
        "description": "The second estimate: the dysglycaemia model; null when the models are off."})
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
    value = fields.Float(required=True, allow_none=True, metadata={
        "description": "Model probability of the outcome (0-1); null when withheld."})
    outcome = fields.String(required=True, metadata={
        "description": "What the probability is of (short wording; the full text in view=standard)."})
    withheld = fields.String(required=True, allow_none=True, metadata={"description": "Why it is not shown, or null."})


class MeasuredSummaryOut(Schema):
    value = fields.Float(required=True)
    cutoff = fields.Float(required=True)
    status = fields.String(required=True, metadata=HOMA_STATUS)
    valid = fields.Boolean(required=True)
    percentile = fields.Float(required=True, allow_none=True, metadata={
        "description": "Its percentile (1-99) among US adults of the same sex and age band; null without a group."})
    leads = fields.Boolean(required=True)


class SummaryMechanismOut(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True, metadata={"description": "Plain-language name for audience=patient."})
    weight = fields.Integer(required=True)


class ScoreSummaryOut(Schema):
    """view=summary: at most 2 kB for a typical patient, read straight from the engine's arrays."""
    view = fields.String(required=True, metadata={"enum": ["summary"]})
    applicable = fields.Boolean(required=True, metadata={
        "description": "False (known diabetes, pregnancy): not_applicable, diabetes_range (with its warning first), "
                       "both probabilities withheld, disclaimer and meta."})
    not_applicable = fields.List(fields.Dict(), metadata={"description": "Why the score does not apply."})
    diabetes_range = fields.Boolean(required=True, metadata={
        "description": "A value meets a diagnostic threshold for diabetes; warnings then says so, first."})
    warnings = fields.List(fields.Dict(), metadata={
        "description": "The diabetes range (first), and triglycerides reported but not scored."})
    leads = fields.String(allow_none=True, required=True, metadata=LEADS)
    measured_homa_ir = fields.Nested(MeasuredSummaryOut, allow_none=True, metadata={
        "description": "The measured HOMA-IR, null unless fasting glucose and insulin are both given."})
    points = fields.Integer(metadata={"description": f"The risk-factor points score for {IR}."})
    max_points = fields.Integer()
    band = fields.String(metadata={"enum": BANDS, "description": f"The band of the points score for {IR}."})
    lower_bound = fields.Boolean(metadata={
        "description": "True when missing factors could add points: points is a lower bound."})
    band_if_missing_were_maximal = fields.String(metadata={"description": "Only when lower_bound is true."})
    probability = fields.Nested(ProbabilityOut, required=True, metadata={
        "description": f"The insulin-resistance model's probability of {IR}; withheld when HOMA-IR was measured."})
    dysglycaemia_probability = fields.Nested(ProbabilityOut, required=True, metadata={
        "description": "The dysglycaemia model's probability; withheld when the inputs already establish it."})
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
        "description": "state loaded (models: role -> model_id, version, sha256; absent: role -> why) or off "
                       "(RISKSERVICE_MODEL=off: ready, model null)"})


class HealthOut(Schema):
    status = fields.String(required=True, metadata={"enum": ["ok"]})
