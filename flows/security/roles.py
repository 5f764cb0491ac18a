"""Roles and scope: the access file that grants them, and what a signed-in account is granted.

The access file (TOML, `BLUELIGHT_ACCESS_FILE`, default `access.toml` in the data directory)
grants a role by a value of an identity-token claim (a group or app role the identity provider
sends) or by e-mail. A commissioner or an analyst is granted organisations too: the police
forces, fire and rescue authorities and ambulance trusts whose areas they may see, by the codes
`marts.dim_organisations` lists. An account may hold several grants; it gets all of them.

    ask = "The Bluelight administrator, bluelight-admin@northmoor-pcc.example"
    claims = ["groups", "roles"]

    [[grant]]
    group = "northmoor-pcc-staff"
    role = "commissioner"
    organisations = ["X23000001"]

    [[grant]]
    email = "a.auditor@audit.example"
    role = "auditor"

What each role sees is its `Scope`, which dashboard/warehouse.py applies in SQL; which pages each
role has is the dashboard's (dashboard/app.py).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

COMMISSIONER, ANALYST, AUDITOR, OPERATOR = "commissioner", "analyst", "auditor", "operator"
ROLES = {
    COMMISSIONER: "the bids, benefits and agency data of their organisations' areas, and every "
    "published statistic",
    ANALYST: "what a commissioner sees, and uploading files for the next night",
    AUDITOR: "everything, read-only, with the load history and the access log",
    OPERATOR: "Data health (runs, refused files, rows set aside), the access log and the "
    "published statistics; no bid",
}
SCOPED_ROLES = (COMMISSIONER, ANALYST)  # the roles a grant gives organisations with
LOCAL = "local"  # the session on loopback when sign-in is not configured: every page, every row
DEFAULT_CLAIMS = ("groups", "roles")
DEFAULT_ASK = "the person who runs Bluelight for your organisation"
GRANT_KEYS = {"role", "group", "email", "organisations"}


class AccessFileError(ValueError):
    """An access file that cannot be used: the message names the file, the grant and the fix."""


@dataclass(frozen=True)
class Scope:
    """The rows a session may read: the organisations whose areas it sees (None: every one) and
    whether it sees operations (the load history, refused files, rows set aside)."""

    organisations: frozenset[str] | None
    operations: bool

    @property
    def key(self) -> str:
        """The same text for the same scope, for cache keys and held connections."""
        named = None if self.organisations is None else sorted(self.organisations)
        return json.dumps([named, self.operations])


EVERYTHING = Scope(None, True)
NOTHING = Scope(frozenset(), False)


@dataclass(frozen=True)
class Grant:
    role: str
    group: str | None
    email: str | None
    organisations: frozenset[str]

    def matches(self, email: str, claim_values: set[str]) -> bool:
        if self.email is not None and self.email.lower() == email.lower():
            return True
        return self.group is not None and self.group in claim_values


@dataclass(frozen=True)
class AccessFile:
    ask: str
    claims: tuple[str, ...]
    grants: tuple[Grant, ...]


@dataclass(frozen=True)
class Access:
    """What one account is granted: its roles and the scope they give together."""

    who: str
    roles: frozenset[str]
    scope: Scope

    @property
    def has_role(self) -> bool:
        return bool(self.roles)


LOCAL_ACCESS = Access(LOCAL, frozenset({LOCAL}), EVERYTHING)


def read(path: Path) -> AccessFile:
    """The access file at `path`; one that does not exist grants no one anything."""
    if not path.exists():
        return AccessFile(DEFAULT_ASK, DEFAULT_CLAIMS, ())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise AccessFileError(f"{path}: cannot be read: {error}") from error
    unknown = sorted(set(data) - {"ask", "claims", "grant"})
    if unknown:
        raise AccessFileError(f"{path}: unknown key(s) {', '.join(unknown)}")
    claims = data.get("claims", list(DEFAULT_CLAIMS))
    if not (isinstance(claims, list) and all(isinstance(c, str) for c in claims)):
        raise AccessFileError(f'{path}: claims must be a list of claim names, e.g. ["groups"]')
    grants = tuple(_grant(path, n, g) for n, g in enumerate(data.get("grant", []), start=1))
    return AccessFile(str(data.get("ask", DEFAULT_ASK)), tuple(claims), grants)


def _grant(path: Path, number: int, data: object) -> Grant:
    """Grant `number` of the file, checked."""
    problem = _grant_problem(data)
    if problem:
        raise AccessFileError(f"{path}: grant {number}: {problem}")
    return Grant(
        data["role"], data.get("group"), data.get("email"), frozenset(data.get("organisations", []))
    )


def _grant_problem(data: object) -> str | None:
    """What is wrong with a grant, in words that say the fix, or None."""
    if not isinstance(data, dict):
        return "must be a table ([[grant]])"
    unknown = sorted(set(data) - GRANT_KEYS)
    role, organisations = data.get("role"), data.get("organisations", [])
    if unknown:
        return f"unknown key(s) {', '.join(unknown)}"
    if role not in ROLES:
        return f"role must be one of {', '.join(ROLES)}, not {role!r}"
    if not (data.get("group") or data.get("email")):
        return "names no group and no email: whom does it grant?"
    if not (isinstance(organisations, list) and all(isinstance(o, str) for o in organisations)):
        return "organisations must be a list of codes"
    if role in SCOPED_ROLES and not organisations:
        return f"a {role} is granted organisations (codes from marts.dim_organisations)"
    if role not in SCOPED_ROLES and organisations:
        return f"a {role} sees every organisation: remove its organisations"
    return None


def resolve(rules: AccessFile, who: str, claims: Mapping[str, object]) -> Access:
    """What the account `who` with these identity-token claims is granted by `rules`."""
    values: set[str] = set()
    for name in rules.claims:
        value = claims.get(name)
        values.update(value if isinstance(value, list) else [value] if value else [])
    emails = {str(claims.get(k) or "") for k in ("email", "preferred_username")} - {""}
    grants = [g for g in rules.grants if any(g.matches(e, values) for e in emails or {""})]
    roles = frozenset(g.role for g in grants)
    every = AUDITOR in roles
    organisations = frozenset().union(*(g.organisations for g in grants if g.role in SCOPED_ROLES))
    scope = Scope(None if every else organisations, bool(roles & {AUDITOR, OPERATOR}))
    return Access(who, roles, scope)
