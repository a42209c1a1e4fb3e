"""Starts `python -m local.dev` (the local OSS + the local FC server, as `make local` does) for a test and stops it."""

import json
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

from conftest import ROOT, stop_process


def drain(process):
    """Keep reading the stack's stdout and stderr (the function's log lines) so that a full pipe never blocks
    a server; → the list the lines collect in, for tests that inspect the logs."""
    lines = []

    def pump(stream):
        for line in stream:
            lines.append(line)
    for stream in (process.stdout, process.stderr):
        threading.Thread(target=pump, args=(stream,), daemon=True).start()
    return lines


@contextmanager
def local_stack(data_dir, **env_overrides):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ALIBABA_CLOUD_", "OSS_", "LOCAL_OSS_"))}
    env.update(env_overrides)
    process = subprocess.Popen(
        [sys.executable, "-m", "local.dev", "--fc-port", "0", "--oss-port", "0", "--wechat-port", "0",
         "--data", str(data_dir)],
        cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        info = None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if line.startswith("ready "):
                info = json.loads(line[len("ready "):])
                break
        if info is None:
            process.kill()
            raise RuntimeError("local.dev did not start: " + process.stderr.read())
        info["process"] = process
        info["output"] = drain(process)
        yield info
    finally:
        stop_process(process)
