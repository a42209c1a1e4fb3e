"""`make local` (local.dev): a busy port ends it with one line, readiness is our own servers' word, Ctrl-C is quiet,
and --host 0.0.0.0 gives clients a reachable upload host."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import ROOT
from local import dev


def run_dev(tmp_path, *args, **popen):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "OSS_", "LOCAL_OSS_"))}
    return subprocess.Popen([sys.executable, "-m", "local.dev", "--data", str(tmp_path / "oss")] + list(args),
                            cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **popen)


def read_ready(process, timeout=20):
    deadline = time.monotonic() + timeout
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("ready "):
            return json.loads(line[len("ready "):]), lines
    return None, lines


@pytest.fixture
def foreign_listener():
    """Something else already serving on a port (an HTTP server that is not ours would do the same)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    yield sock.getsockname()[1]
    sock.close()


@pytest.mark.parametrize("flag,setting", [("--fc-port", "FC_PORT"), ("--oss-port", "OSS_PORT"),
                                          ("--wechat-port", "WECHAT_PORT")])
def test_a_busy_port_ends_it_with_one_line_naming_the_port(tmp_path, foreign_listener, flag, setting):
    ports = {"--fc-port": "0", "--oss-port": "0", "--wechat-port": "0", flag: str(foreign_listener)}
    process = run_dev(tmp_path, *[x for pair in ports.items() for x in pair])
    out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "ready " not in out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(foreign_listener) in lines[0] and setting in lines[0]
    assert "make local FC_PORT=" in lines[0] and "OSS_PORT=" in lines[0] and "WECHAT_PORT=" in lines[0]
    assert "Traceback" not in out + err


def test_readiness_is_the_servers_own_banner_not_an_open_port(tmp_path, foreign_listener):
    """A foreign listener answers connects on the port the server should have: it must not count as ready."""
    server = dev.Server("fc", foreign_listener, [sys.executable, "-c", "import time; time.sleep(30)"], dict(os.environ))
    try:
        with pytest.raises(dev.StartError, match="did not report ready on port %d" % foreign_listener):
            server.wait_ready(time.monotonic() + 1.0, dev.threading.Event())
    finally:
        server.stop()
        server.wait_stopped()


def test_a_banner_for_another_port_is_not_readiness(tmp_path):
    banner = "print('local.fc: function/index.py:handler at http://127.0.0.1:1/', flush=True); import time; time.sleep(30)"
    server = dev.Server("fc", 9, [sys.executable, "-c", banner], dict(os.environ))
    try:
        with pytest.raises(dev.StartError):
            server.wait_ready(time.monotonic() + 1.0, dev.threading.Event())
    finally:
        server.stop()
        server.wait_stopped()


@pytest.mark.parametrize("round_", range(6))
def test_ctrl_c_to_the_process_group_stops_everything_quietly(tmp_path, round_):
    process = run_dev(tmp_path, "--fc-port", "0", "--oss-port", "0", "--wechat-port", "0", start_new_session=True)
    info, _ = read_ready(process)
    assert info is not None, process.stderr.read() if process.poll() is not None else "no ready line"
    fc_port = int(info["fc"].rsplit(":", 1)[1])
    os.killpg(process.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Traceback" not in out + err and "KeyboardInterrupt" not in out + err
    with pytest.raises(OSError):  # every server is gone
        socket.create_connection(("127.0.0.1", fc_port), timeout=1).close()


def test_sigterm_stops_it_too(tmp_path):
    process = run_dev(tmp_path, "--fc-port", "0", "--oss-port", "0", "--wechat-port", "0")
    info, _ = read_ready(process)
    assert info is not None
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0 and "Traceback" not in out + err


def test_host_0000_serves_the_lan_with_a_reachable_upload_host(tmp_path):
    address = dev.lan_address()
    process = run_dev(tmp_path, "--host", "0.0.0.0", "--fc-port", "0", "--oss-port", "0", "--wechat-port", "0",
                      start_new_session=True)
    try:
        info, lines = read_ready(process)
        assert info is not None
        assert info["fc"].startswith("http://%s:" % address) and info["oss"].startswith("http://%s:" % address)
        assert any("http://%s:" % address in line and "/v1/uploads" in line for line in lines)
        status, body = post_json(address, int(info["fc"].rsplit(":", 1)[1]), "/v1/uploads",
                                 {"size": 5, "contentType": "text/plain"})
        assert status == 401  # wechat mode by default: the server answered over the LAN address
        assert body["error"]["code"] == "unauthorized"
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.communicate(timeout=20)
    assert process.returncode == 0


def test_host_0000_upload_host_is_the_lan_address(tmp_path):
    env = dev.stack_environment({}, 9000, 9100, 9200, "id", "secret", "token", "PEM",
                                public_address="192.168.1.23", internal_address="127.0.0.1")
    assert env["OSS_UPLOAD_HOST"] == "http://192.168.1.23:9100/local-bucket"
    assert env["OSS_ENDPOINT"] == "http://127.0.0.1:9100"
    assert env["CALLBACK_URL"] == "http://127.0.0.1:9000/v1/oss-callback"


def test_the_busy_port_message_suggests_a_different_port():
    message = dev.busy_port_message("OSS_PORT", 9100, {"fc": 9000, "oss": 9100, "wechat": 9200})
    assert message.endswith("make local FC_PORT=9000 OSS_PORT=9101 WECHAT_PORT=9200")
    assert "\n" not in message


def post_json(host, port, path, payload):
    import http.client
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        connection.request("POST", path, json.dumps(payload), {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_make_local_passes_host_and_ports_through():
    out = subprocess.run(["make", "-n", "local", "HOST=0.0.0.0", "FC_PORT=9001", "OSS_PORT=9101", "WECHAT_PORT=9201"],
                         cwd=str(ROOT), capture_output=True, text=True, env=dict(os.environ, HOST="ignored"))
    assert out.returncode == 0, out.stderr
    assert "-m local.dev --host 0.0.0.0 --fc-port 9001 --oss-port 9101 --wechat-port 9201" in out.stdout
    defaults = subprocess.run(["make", "-n", "local"], cwd=str(ROOT), capture_output=True, text=True,
                              env=dict(os.environ, HOST="some-machine"))  # a shell's HOST does not leak in
    assert "-m local.dev --host 127.0.0.1 --fc-port 9000 --oss-port 9100 --wechat-port 9200" in defaults.stdout


def test_every_banner_comes_before_the_ready_line(tmp_path):
    process = run_dev(tmp_path, "--fc-port", "0", "--oss-port", "0", "--wechat-port", "0", start_new_session=True)
    try:
        info, lines = read_ready(process)
        assert info is not None
        before = "".join(lines)
        for name in ("local.oss:", "local.fc:", "local.wechat:"):
            assert name in before, name
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.communicate(timeout=20)
