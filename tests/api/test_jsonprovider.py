"""The orjson provider tries the faster text-keys-only encoding first; every other value must
come out exactly as the full options write it."""
import numpy as np
import orjson

from riskservice.api.jsonprovider import OPTIONS


def test_fast_encoding_falls_back_for_keys_that_are_not_text(app):
    values = [{"a": 1, "b": [1.5, None, True]}, {1: "x", "2": "y"}, {None: 1}, {1.5: [np.float64(0.25)]},
              {"n": np.int64(3), "arr": np.arange(3)}, {"text": "caf\u00e9 \u2264 5"}]
    for value in values:
        assert app.json._encode(value) == orjson.dumps(value, default=app.json.default, option=OPTIONS)


def test_a_lone_surrogate_is_still_replaced(app):
    assert app.json._encode({"\ud800": "x"}) == '{"\ufffd":"x"}'.encode()
