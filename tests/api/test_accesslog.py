"""The access log's direct write (the service's own logging set-up) writes the very line the
JSON handler writes for a record; any other set-up gets real records."""
import logging

from riskservice.api import accesslog

ACCESS = {"request_id": "r-1", "method": "POST", "route": "/v1/score", "status": 200, "latency_ms": 1.234,
          "request_bytes": 270, "response_bytes": 1932}


def test_direct_line_equals_the_handler_line(capsys, monkeypatch):
    accesslog.configure_logging()
    monkeypatch.setattr(logging.getLogger(), "handlers", [])   # pytest's own capture handler
    handler = accesslog._only_handler()
    assert handler is not None
    monkeypatch.setattr(accesslog.time, "time", lambda: 1764115200.123456)
    capsys.readouterr()
    accesslog._emit(dict(ACCESS))
    direct = capsys.readouterr().out
    record = accesslog._record(dict(ACCESS))
    record.created = 1764115200.123456
    handler.handle(record)
    assert direct == capsys.readouterr().out
    assert direct.startswith('{"ts":"2025-11-26T00:00:00.123Z","level":"INFO","logger":"riskservice.access",')


def test_any_other_listener_gets_a_record(caplog):
    accesslog.configure_logging()
    assert accesslog._only_handler() is None   # caplog's handler on the root logger
    with caplog.at_level(logging.INFO, logger="riskservice.access"):
        accesslog._emit(dict(ACCESS))
    assert [r.access for r in caplog.records if r.name == "riskservice.access"] == [ACCESS]
