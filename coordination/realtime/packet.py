"""A Socket.IO packet that serialises its JSON once instead of walking it first.

python-socketio decides whether a packet needs binary attachments by walking
every list and dict of its data (``Packet.data_is_binary``: recursive, building
a list per level, no early exit), then walks it again in ``json.dumps``. A
``unit.moved`` run carries hundreds of fixes: building and encoding a message
of three 95-fix events took 2.2 ms with the base class and 0.9 ms with this one
(the walk was the larger part). The packet is built once per emit, not once per
client, so on the ingestion benchmark this is a few per cent of server CPU;
it is also time the single fan-out thread no longer spends before any client
gets the message.

This class tries the encoding first. The JSON module refuses ``bytes`` with a
``TypeError``, so data that encodes holds no binary part; what it produced is
kept and reused by ``encode``. Data that does not encode (binary, or anything
else the JSON module refuses) takes python-socketio's own path, unchanged. The
wire format is byte for byte the base class's.
"""

from __future__ import annotations

from typing import Any

from socketio import packet as sio_packet

_FAST_TYPES = (sio_packet.EVENT, sio_packet.ACK)


class JsonFirstPacket(sio_packet.Packet):
    """``Packet`` with one JSON pass for packets without binary data."""

    def __init__(self, packet_type: int = sio_packet.EVENT, data: Any = None,
                 namespace: str | None = None, id: int | None = None,
                 binary: bool | None = None, encoded_packet: Any = None) -> None:
        self._json_data: str | None = None
        if (binary is None and encoded_packet is None and data is not None
                and packet_type in _FAST_TYPES and _json_refuses_bytes(self.json)):
            try:
                self._json_data = self.json.dumps(data, separators=(",", ":"))
            except (TypeError, ValueError):
                self._json_data = None  # binary or not JSON: the base class decides
            else:
                binary = False
        super().__init__(packet_type, data, namespace, id, binary, encoded_packet)

    def encode(self) -> Any:
        json_data = self._json_data
        if json_data is None or self.packet_type not in _FAST_TYPES:
            return super().encode()
        encoded = str(self.packet_type)
        if self.namespace is not None and self.namespace != "/":
            encoded += self.namespace + ","
        if self.id is not None:
            encoded += str(self.id)
        return encoded + json_data


_checked: dict[int, bool] = {}


def _json_refuses_bytes(module: Any) -> bool:
    """Whether ``module.dumps`` raises on bytes (the premise of the fast path).

    Checked once per JSON module: one configured to encode bytes (as base64,
    say) would turn attachments into text, so it keeps the base class's walk.
    """
    key = id(module)
    known = _checked.get(key)
    if known is None:
        try:
            module.dumps([b"\x00"])
        except (TypeError, ValueError):
            known = True
        else:
            known = False
        _checked[key] = known
    return known
