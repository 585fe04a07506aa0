# SPDX-License-Identifier: BSD-3-Clause
"""Run a program for a while, then stop it with a signal, as a user's Ctrl-C
would: (exit status, stdout, stderr). Killed if it does not stop in time.

The while counts from the line rxsec prints once its lcores are about to
start (READY), not from exec: EAL start-up alone can take longer than the
while on a loaded machine or in the ASan build, and a run stopped before it
forwarded anything checks nothing."""
import signal
import subprocess
import tempfile
import time

READY = 'rxsec: offload v'


def wait_ready(p, out, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and p.poll() is None:
        out.seek(0)
        if any(line.startswith(READY) for line in out.read().splitlines()):
            return
        time.sleep(0.05)


def run_interrupted(argv, seconds=1.5, sig=signal.SIGINT, timeout=30):
    with tempfile.TemporaryFile('w+') as out, tempfile.TemporaryFile('w+') as err:
        p = subprocess.Popen(argv, stdout=out, stderr=err, text=True)
        wait_ready(p, out, timeout)
        time.sleep(seconds)
        p.send_signal(sig)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        out.seek(0)
        err.seek(0)
        return p.returncode, out.read(), err.read()
