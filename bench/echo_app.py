"""The framework floor for bench/load_bench.py: a bare Flask app that echoes a JSON body.

Served under the same gunicorn config as riskservice, it measures what Flask + gunicorn +
loopback cost with no scoring at all; the score endpoint is compared against it."""
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/echo")
def echo():
    return jsonify(request.get_json())
