"""The name of this process as other processes see it in the journal (host:pid)."""

import os
import socket


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]
