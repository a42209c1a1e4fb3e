"""local.fc's instance pool: each instance serves one invocation at a time, and a request that finds every
instance busy gets a new one (as FC starts another instance), so a function whose call comes back to it (a
multipart complete waiting on OSS, which posts the upload callback) does not wait on itself."""

import sys
import threading

import pytest

from local.fc import FunctionHost

INDEX = '''
import shared_state

INSTANCE = object()


def initialize(context):
    shared_state.initialized.append(id(INSTANCE))


def handler(event, context):
    shared_state.barrier.wait(timeout=5)
    return {"statusCode": 200, "headers": {}, "isBase64Encoded": False, "body": str(id(INSTANCE))}
'''


@pytest.fixture
def function_dir(tmp_path, monkeypatch):
    (tmp_path / "index.py").write_text(INDEX)
    (tmp_path / "shared_state.py").write_text("import threading\nbarrier = threading.Barrier(2)\ninitialized = []\n")
    monkeypatch.delitem(sys.modules, "index", raising=False)
    monkeypatch.delitem(sys.modules, "shared_state", raising=False)
    monkeypatch.setattr(sys, "path", [str(tmp_path)] + sys.path)
    yield tmp_path
    sys.modules.pop("index", None)
    sys.modules.pop("shared_state", None)


def invoke_together(host, count):
    answers, errors = [], []

    def call(n):
        try:
            answers.append(host.invoke(b"{}", "req-%d" % n)["body"])
        except Exception as exc:  # a serialised host breaks the barrier
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return answers, errors


def test_a_busy_instance_makes_the_host_start_another(function_dir):
    host = FunctionHost(function_dir=str(function_dir), env={})
    answers, errors = invoke_together(host, 2)
    assert errors == [] and len(answers) == 2
    assert len(set(answers)) == 2                      # two instances served the two requests at once
    import shared_state

    assert sorted(shared_state.initialized) == sorted(int(a) for a in answers)  # each initialised once


def test_idle_instances_are_reused(function_dir):
    host = FunctionHost(function_dir=str(function_dir), env={})
    invoke_together(host, 2)
    import shared_state

    shared_state.barrier = threading.Barrier(1)
    bodies = {host.invoke(b"{}", "req-again-%d" % n)["body"] for n in range(5)}
    assert len(bodies) == 1 and len(shared_state.initialized) == 2  # no new instance for sequential requests


def test_at_most_max_instances(function_dir):
    host = FunctionHost(function_dir=str(function_dir), env={}, max_instances=1)
    answers, errors = invoke_together(host, 2)
    assert len(errors) == 2 or (len(errors) == 1 and len(answers) == 1)  # one instance: the barrier breaks
