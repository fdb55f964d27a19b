"""Domain signals: one feature tells another that something happened, inside the same
transaction, so the arrows between feature packages keep running one way.

Receivers run before the sender commits; whatever they add commits or rolls back with it.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent by voting when the facilitator carries the top lines of a ballot forward.
#: Sender: the ballot; keyword arguments: actor, workshop, proposal_ids.
lines_carried_forward = _signals.signal("lines-carried-forward")
