"""The framework floor for bench/load_bench.py: a bare Flask app that echoes a JSON body.

Served under the same gunicorn config as riskservice, it measures what Flask + gunicorn +
loopback cost with no scoring at all; the score endpoint is compared against it.
``/echo_large`` answers with a fixed, pre-encoded JSON body as large as a score response
(``ECHO_LARGE_BYTES``, default 60,000), to show how much of the gap is just moving bytes."""
import json
import os

from flask import Flask, Response, jsonify, request

app = Flask(__name__)
_SIZE = int(os.environ.get("ECHO_LARGE_BYTES", "60000"))
_LARGE = json.dumps({"padding": ["x" * 90] * (_SIZE // 94)}).encode()


@app.post("/echo")
def echo():
    return jsonify(request.get_json())


@app.post("/echo_large")
def echo_large():
    request.get_json()
    return Response(_LARGE, mimetype="application/json")
