"""gunicorn hooks added for speed (issue 13): recycled workers exit without finalization, the
master's heap is frozen before forking, and gunicorn builds no access-log line of its own."""
import gc
import importlib

import pytest


@pytest.fixture()
def gunicorn_conf(monkeypatch, tmp_path):
    """The config module, imported with PROMETHEUS_MULTIPROC_DIR pointing at a temporary
    directory: importing it sets that variable, which must not leak into later tests."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    return importlib.import_module("riskservice.gunicorn_conf")


class FakeWorker:
    def __init__(self, booted, alive):
        self.booted, self.alive = booted, alive


class Exited(Exception):
    pass


@pytest.fixture()
def fake_exit(monkeypatch, gunicorn_conf):
    codes = []

    def _exit(code):
        codes.append(code)
        raise Exited
    monkeypatch.setattr(gunicorn_conf.os, "_exit", _exit)
    monkeypatch.setattr(gunicorn_conf.logging, "shutdown", lambda: None)
    return codes


def test_recycled_worker_leaves_at_once(fake_exit, gunicorn_conf):
    with pytest.raises(Exited):
        gunicorn_conf.worker_exit(None, FakeWorker(booted=True, alive=False))
    assert fake_exit == [0]


@pytest.mark.parametrize("booted, alive", [(False, False), (False, True), (True, True)])
def test_boot_failures_and_crashes_exit_as_gunicorn_decides(fake_exit, gunicorn_conf, booted, alive):
    gunicorn_conf.worker_exit(None, FakeWorker(booted=booted, alive=alive))
    assert fake_exit == []


def test_when_ready_freezes_the_heap(gunicorn_conf):
    try:
        gunicorn_conf.when_ready(None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_gunicorn_access_log_is_not_built(gunicorn_conf):
    class Boom:
        def __getattr__(self, name):
            raise AssertionError("the access log touched the response")
    assert gunicorn_conf.logger_class.access(object.__new__(gunicorn_conf.logger_class), Boom(), Boom(), {}, 0) is None
