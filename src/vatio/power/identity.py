"""Never train as root: under `sudo vatio power ...`, the job runs as the user who typed it.

Changing a GPU power limit needs root, the job does not. When vatio runs as
root through sudo (SUDO_UID is set), the job it starts gets the invoking
user's uid, gid, groups and home; vatio keeps root only for the knobs.
"""

from __future__ import annotations

import os
from typing import Any


def job_identity(env: dict[str, str] | None = None) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """(Popen identity options or None, environment updates for the job)."""
    env = dict(os.environ if env is None else env)
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None, {}
    uid_text = env.get("SUDO_UID")
    if not uid_text or not uid_text.isdigit() or int(uid_text) == 0:
        return None, {}
    import pwd

    try:
        user = pwd.getpwuid(int(uid_text))
    except KeyError:
        return None, {}
    gid = int(env.get("SUDO_GID") or user.pw_gid)
    identity = {
        "user": user.pw_uid,
        "group": gid,
        "extra_groups": os.getgrouplist(user.pw_name, gid),
    }
    return identity, {"HOME": user.pw_dir, "USER": user.pw_name, "LOGNAME": user.pw_name}


def root_note(identity: dict[str, Any] | None) -> str | None:
    """A warning when the job would run as root."""
    if identity is None and hasattr(os, "geteuid") and os.geteuid() == 0:
        return (
            "vatio runs as root without sudo, so the job does too; start it with sudo from "
            "your own account (the job then runs as you) or grant the knobs to a group "
            "(docs/power.md)"
        )
    return None
