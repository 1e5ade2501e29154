"""The host name vatio records: the machine's, or `VATIO_HOSTNAME` when set.

The override names a node the way a cluster's scheduler does (containers often
get random host names) and lets tests simulate several nodes on one machine.
"""

from __future__ import annotations

import os

ENV = "VATIO_HOSTNAME"


def hostname() -> str:
    """`VATIO_HOSTNAME`, else the machine's host name; a bad override is an InputError."""
    given = os.environ.get(ENV)
    if given is None or not given.strip():
        return machine_name()
    name = given.strip()
    if len(name) > 253 or not name.isprintable():
        from vatio.errors import InputError

        raise InputError(
            f"{ENV}={given[:60]!r} is not a host name (too long or with control characters).",
            f"Set {ENV} to the node's name, e.g. gpu-node-7, or unset it.",
        )
    return name


def machine_name() -> str:
    """The kernel's node name: what socket.gethostname() returns, without importing socket."""
    try:
        return os.uname().nodename
    except AttributeError:  # no os.uname (Windows)
        import socket

        return socket.gethostname()
