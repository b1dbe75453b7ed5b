#!/usr/bin/env python3
"""Runs a command with a new terminal as its stdin, stdout and stderr and
prints what it wrote there (CRLF as LF). usage: on_pty.py COMMAND [ARGS...]"""
import os
import pty
import sys

pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        d = os.read(fd, 4096)
    except OSError:  # EIO once the child has closed the terminal
        break
    if not d:
        break
    out += d
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace").replace("\r\n", "\n"))
sys.exit(os.waitstatus_to_exitcode(status))
