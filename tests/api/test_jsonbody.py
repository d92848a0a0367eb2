"""The strict JSON body reader: its orjson fast path reads every body exactly as the strict
reader does (same value and types), and leaves every body it might read differently (or that
must be refused) to the strict reader, so refusals keep their wording."""
import json
import random

import pytest

from riskservice.api import jsonbody
from riskservice.api.errors import BadJSON
from tests.core.randompatients import random_patient

EDGE = [
    b'{"a": 18446744073709551616}', b'{"a": -9223372036854775809}', b'{"a": 9223372036854775808}',
    b'{"a": 9223372036854775807}', b'{"a": 1e19}', b'{"a": -1e19}', b'{"a": 1e400}', b'{"a": -1e400}',
    b'{"a": 1e-400}', b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b'{"a": "\\ud800"}',
    b'{"a": "\\udc00"}', b'{"a": "\\ud800\\u0041"}', b'{"a": "\\ud83d\\ude00"}', b'\xef\xbb\xbf{}',
    b'{"a": "x\ny"}', b'{"a": -0}', b'{"a": -0.0}', b'{"a": 1e5}', b'{"a": 1E+2}', b'{"a": 01}',
    b'{"a": 1.}', b'{"a": .5}', b' {} ', b'{"a":1,}', b'[1,]', b'{"a": "\\u0000"}', b'"\\x"',
    b'{"a": nul}', b'{"a": 5e-324}', b'{"a":"\\/"}', b'{"a":1,"a":2}', b'{"a":{"b":1,"b":2}}',
    b'[{"a":1},{"a":1}]', b'{"a":"x:y"}', b'{"a:b":1}', b'5', b'1e19', b'"x"', b'{"a":[1e19]}', b'',
    b'\xff', b'"\xed\xa0\x80"', b'{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}',
    b'{"a": true, "b": false, "c": null, "d": [1, 2.5, "x"], "e": {"f": {}}}', b'{} {}', b'[] ',
    b'{"age": 52, "age ": 1}', b'{"\\u0061": 1, "a": 2}', b'{"a": "\xc3\xa9"}', b'1' * 400, b'-' + b'9' * 320,
]


def outcome(raw, plain: bool):
    if not plain:
        saved, jsonbody._plain = jsonbody._plain, lambda raw, depth: jsonbody._NOT_PLAIN
    try:
        value = jsonbody.parse(raw, 32)
        return ("ok", repr(value))
    except BadJSON as exc:
        return ("refused", exc.description)
    finally:
        if not plain:
            jsonbody._plain = saved


def bodies():
    out = list(EDGE)
    rng = random.Random(13)
    for _ in range(2000):
        p = random_patient(rng)
        text = json.dumps(p)
        out.append(text.encode())
        k = rng.randrange(len(text))
        out.append((text[:k] + rng.choice(['"', ":", ",", "{", "]", "1e999", "\\ud800", "9" * 25, ""]) + text[k:]).encode())
    return out


@pytest.mark.parametrize("chunk", range(4))
def test_fast_path_reads_every_body_like_the_strict_reader(chunk):
    all_bodies = bodies()
    for raw in all_bodies[chunk::4]:
        assert outcome(raw, plain=True) == outcome(raw, plain=False), raw[:200]


def test_fast_path_takes_ordinary_bodies_and_leaves_doubtful_ones():
    assert jsonbody._plain(b'{"age": 52, "sex": "male", "medications": ["metformin"]}', 32) == \
        {"age": 52, "sex": "male", "medications": ["metformin"]}
    for raw in (b'{"a":1,"a":2}', b'{"a": 18446744073709551616}', b'{"a": NaN}', b'{"a": "\\ud800"}',
                b'{"a": "x:y"}'):
        assert jsonbody._plain(raw, 32) is jsonbody._NOT_PLAIN
