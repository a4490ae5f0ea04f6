"""Open enrolment: partners register themselves and post their own signed agreements over HTTP.

Off unless ``Settings.open_enrolment`` is set; ``openbmd exchange serve`` sets it by default
only when it binds to a loopback address (:func:`is_loopback`), so a local exercise needs no
configuration and a centre reachable from a network enrols nobody it was not told about.

* ``POST /v1/partners`` ``{name, public_key_pem}``, the request signed (``X-OpenBMD-*``
  headers of :mod:`openbmd.exchange.auth`, ``X-OpenBMD-Partner`` = *name*) by the **new** key:
  proof of possession — nobody can enrol a key they do not hold, or under a name the signature
  does not cover. The registration itself is :meth:`Store.add_partner`, the operator's
  ``partner add``.
* ``POST /v1/agreements`` an agreement with its sender's ``signature_b64``, in a request signed
  by that sender: :meth:`Store.put_agreement` checks the agreement signature against the
  sender's registered key (as for ``agreement add``); the request signature keeps anybody else
  from replaying an older agreement the sender once signed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from openbmd.errors import InputError
from openbmd.exchange.domain import Agreement, Partner
from openbmd.exchange.errors import Problem
from openbmd.exchange.signing import Ed25519PublicKey, load_public_key
from openbmd.exchange.store import Store

__all__ = ["enrol", "is_loopback", "new_partner_key", "unregistered_parties"]


def is_loopback(host: str) -> bool:
    """Does *host* (an address or a name) resolve only to loopback addresses?"""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    addrs = {info[4][0] for info in infos}
    return bool(addrs) and all(ipaddress.ip_address(str(a)).is_loopback for a in addrs)


def new_partner_key(pem: str) -> Ed25519PublicKey:
    """The Ed25519 key of an enrolment request (400 ``bad-key`` if it is not one).

    Loaded from the PEM bytes, never from a string, which :func:`load_public_key` would take
    for a file path when it lacks a PEM header.
    """
    try:
        return load_public_key(pem.encode("utf-8"))
    except (InputError, UnicodeError) as exc:
        raise Problem("bad-key", f"public_key_pem: {exc}") from None


def enrol(store: Store, name: str, pem: str) -> tuple[Partner, bool]:
    """Register *name* with *pem* through :meth:`Store.add_partner` (blocking).

    Returns the partner and whether it is new (re-enrolling the same key is a no-op). A name
    registered with another key, or a key registered under another name: 409 ``name-taken``.
    """
    known = any(p.name == name for p in store.partners())
    try:
        partner = store.add_partner(name, pem)
    except InputError as exc:
        raise Problem("name-taken", str(exc)) from None
    return partner, not known


def unregistered_parties(agreement: Agreement, known: Iterable[str]) -> list[str]:
    """The sender and recipients of *agreement* that are not registered partners."""
    names = set(known)
    parties = [agreement.sender, *(r.recipient for r in agreement.rules)]
    return [p for p in dict.fromkeys(parties) if p not in names]
