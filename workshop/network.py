"""The laptop's address on the room's network, for `make room` (serve.py --room).

A workshop is often served from one laptop on a Wi-Fi with no internet: phones reach it at the
laptop's private address, which the join link and the QR code must carry. This module finds
the candidates and picks one, saying plainly when there are several or none.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class Interface:
    """One IPv4 address of a network interface that is up."""

    name: str
    address: str


def interfaces() -> list[Interface]:
    """IPv4 addresses of the interfaces that are up (loopback included; `choose` drops it)."""
    stats = psutil.net_if_stats()
    found = []
    for name, addresses in psutil.net_if_addrs().items():
        if name in stats and not stats[name].isup:
            continue
        found += [Interface(name, a.address) for a in addresses if a.family == socket.AF_INET]
    return found


def _rank(interface: Interface) -> tuple[int, str]:
    ip = ipaddress.IPv4Address(interface.address)
    # Home and venue routers hand out 192.168.x.x, then 10.x and 172.16–31.x; link-local
    # (169.254.x.x, a phone hotspot without DHCP) last.
    order = (ip in ipaddress.IPv4Network("192.168.0.0/16"), ip in ipaddress.IPv4Network(
        "10.0.0.0/8"), ip in ipaddress.IPv4Network("172.16.0.0/12"), ip.is_link_local)
    return (next((i for i, hit in enumerate(order) if hit), len(order)), interface.address)


@dataclass(frozen=True)
class Choice:
    """The address phones will be given, and the others a facilitator might prefer."""

    address: str | None
    others: list[Interface]


def choose(found: list[Interface], wanted: str | None = None) -> Choice:
    """The room's address: `wanted` if given, else the most likely private one.

    Loopback and public addresses are never chosen on their own: a phone cannot reach the
    first, and the second is not the room's network.
    """
    usable = [i for i in found if _usable(i.address)]
    if wanted:
        return Choice(wanted, [i for i in usable if i.address != wanted])
    usable.sort(key=_rank)
    if not usable:
        return Choice(None, [])
    return Choice(usable[0].address, usable[1:])


def _usable(address: str) -> bool:
    ip = ipaddress.IPv4Address(address)
    return not ip.is_loopback and (ip.is_private or ip.is_link_local)
