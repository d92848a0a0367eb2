import json
import pathlib

import jsonschema
import pytest

from riskservice import ehr
from riskservice.ehr import fhir_in
from tests.paths import CDS_RESPONSE_SCHEMA

MAPPING = pathlib.Path(ehr.__file__).parent / "mapping"
FILES = sorted(p for p in MAPPING.glob("*.json") if not p.name.endswith(".schema.json"))


@pytest.fixture(scope="module")
def validator():
    schema = json.loads((MAPPING / "mapping.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_mapping_file_matches_schema(validator, path):
    errors = [e.message for e in validator.iter_errors(json.loads(path.read_text()))]
    assert errors == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_entry_cites_a_declared_source(path):
    data = json.loads(path.read_text())
    declared = set(data["sources"])

    def cited(text):
        return any(text == key or text.startswith(key + " ") or text.startswith(key) for key in declared)

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k in ("source", "rxcui_source", "atc_source") and v is not None:
                    assert cited(v), f"{path.name}: source {v!r} not declared in 'sources'"
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(data)


def test_schema_rejects_an_uncited_code(validator):
    data = json.loads((MAPPING / "observations.json").read_text())
    del data["concepts"][0]["codes"][0]["source"]
    assert list(validator.iter_errors(data))


def test_no_code_maps_to_two_fields():
    seen = {}
    for concept in fhir_in.tables().observations["concepts"]:
        for c in concept["codes"]:
            key = (c["system"], c["code"])
            assert key not in seen, f"{key} maps to {seen[key]} and {concept['field']}"
            seen[key] = concept["field"]


def test_relationship_groups_are_disjoint_and_half_siblings_second_degree():
    rel = fhir_in.tables().family["relationships"]
    first, second, none = (set(rel[k]["codes"]) for k in ("first_degree", "second_degree", "no_genetic_link"))
    assert not (first & second) and not (first & none) and not (second & none)
    assert {"HBRO", "HSIS", "HSIB"} <= second
    assert {"STPFTH", "STPMTH", "ADOPTF", "ADOPTM"} <= none


def test_packaged_cds_schema_is_the_vendored_contract():
    packaged = pathlib.Path(ehr.__file__).parent / "cds-hooks-2.0-response.schema.json"
    assert json.loads(packaged.read_text()) == json.loads(CDS_RESPONSE_SCHEMA.read_text())
