"""Sign-in: users from a TOML or YAML file with scrypt-hashed passwords, and their roles.

Without a users file the dashboard runs for one person on a laptop: everyone is ``local``
with the ``admin`` role. A users file looks like::

    # users.toml
    [users.alice]
    name = "Alice Wang"
    roles = ["reviewer"]
    password = "scrypt$16384$8$1$<salt>$<hash>"   # python -m dashboards.auth hash

Roles decide what each page allows (:data:`PERMISSIONS`); everyone signed in may read.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from qa_toolkit.errors import ConfigError

__all__ = ["LOCAL_USER", "PERMISSIONS", "ROLES", "User", "can", "hash_password", "load_users", "verify_password"]

ROLES = ("reviewer", "auditor", "trainer", "admin")
PERMISSIONS = {
    "review": ("reviewer", "admin"),  # verdicts and notes on findings and calls
    "correct": ("reviewer", "admin"),  # correct a transcript segment and re-scan
    "train_add": ("reviewer", "trainer", "admin"),  # add a finding to the training library
    "train_edit": ("trainer", "admin"),  # rewrites, notes, removal, training-pack export
    "sample": ("auditor", "admin"),  # draw, save and judge audit samples
    "export": ("auditor", "admin"),  # CSV / XLSX exports of samples
    "audit_log": ("auditor", "admin"),  # read the audit log
}


@dataclass(frozen=True)
class User:
    """A signed-in user."""

    username: str
    name: str
    roles: tuple[str, ...]


LOCAL_USER = User("local", "Local user", ("admin",))


def can(user: User | None, action: str) -> bool:
    """Whether ``user`` may do ``action`` (a key of :data:`PERMISSIONS`)."""
    if action not in PERMISSIONS:
        raise ConfigError(f"unknown action {action!r}; choose one of: {', '.join(PERMISSIONS)}")
    return user is not None and any(r in PERMISSIONS[action] for r in user.roles)


def hash_password(password: str, *, n: int = 2**14, r: int = 8, p: int = 1) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64) for a users file."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Check a password against a :func:`hash_password` string (constant time)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
                             p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def load_users(path: str | Path) -> dict[str, tuple[User, str]]:
    """Read a users file: ``username -> (User, password hash)``.

    Raises:
        ConfigError: The file is missing, unreadable, or a user lacks a hash or has an unknown role.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read users file: {err.strerror}", path=str(path)) from err
    try:
        if path.suffix.lower() == ".toml":
            try:
                import tomllib
            except ImportError:  # Python 3.10
                import tomli as tomllib

            data = tomllib.loads(raw.decode("utf-8"))
        else:
            import yaml

            data = yaml.safe_load(raw) or {}
    except Exception as err:
        raise ConfigError(f"users file does not parse: {err}".splitlines()[0], path=str(path)) from err
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, dict) or not users:
        raise ConfigError("users file needs a 'users' table with at least one user", path=str(path))
    out = {}
    for username, entry in users.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("password"), str):
            raise ConfigError(f"user {username!r} needs a 'password' hash (python -m dashboards.auth hash)",
                              path=str(path))
        if not entry["password"].startswith("scrypt$"):
            raise ConfigError(f"user {username!r}: password must be a scrypt hash, never plain text",
                              path=str(path))
        roles = tuple(entry.get("roles") or ())
        bad = [r for r in roles if r not in ROLES]
        if bad or not roles:
            raise ConfigError(f"user {username!r}: roles must be some of: {', '.join(ROLES)}", path=str(path))
        out[str(username)] = (User(str(username), str(entry.get("name") or username), roles), entry["password"])
    return out


def authenticate(users: dict[str, tuple[User, str]], username: str, password: str) -> User | None:
    """The user when the password is right, else None (after a short delay against guessing)."""
    entry = users.get(username.strip())
    if entry is not None and verify_password(password, entry[1]):
        return entry[0]
    time.sleep(0.5)
    return None


def main(argv: list[str] | None = None) -> None:
    """``python -m dashboards.auth hash``: print the hash of a password typed twice."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] != ["hash"]:
        print("usage: python -m dashboards.auth hash", file=sys.stderr)
        raise SystemExit(2)
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        print("passwords differ", file=sys.stderr)
        raise SystemExit(1)
    print(hash_password(first))


if __name__ == "__main__":
    main()
