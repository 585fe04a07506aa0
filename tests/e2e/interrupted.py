# SPDX-License-Identifier: BSD-3-Clause
"""Run a program for a while, then stop it with a signal, as a user's Ctrl-C
would: (exit status, stdout, stderr). Killed if it does not stop in time."""
import signal
import subprocess
import time


def run_interrupted(argv, seconds=1.5, sig=signal.SIGINT, timeout=30):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(seconds)
    p.send_signal(sig)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    return p.returncode, out, err
