"""The JSON-first Socket.IO packet: same bytes on the wire, binary data still attached."""

from __future__ import annotations

import json
from typing import Any

import pytest
from socketio import packet as sio_packet

from coordination.extensions import socketio
from coordination.realtime.packet import JsonFirstPacket, _json_refuses_bytes

MOVED = {"seq": 7, "context": "live", "type": "unit.moved", "ts": 1.5,
         "payload": {"count": 2, "positions": [
             {"id": 1, "call_sign": "蒙J-120", "lon": 113.1, "lat": 41.0,
              "at": "2026-01-01T00:00:00+00:00", "speed_kmh": None, "heading": 90.0},
             {"id": 2, "call_sign": "U0002", "lon": 112.0, "lat": 40.5,
              "at": "2026-01-01T00:00:01+00:00", "speed_kmh": 40.0, "heading": None}]}}


@pytest.mark.parametrize("kwargs", [
    {"data": ["event", MOVED]},
    {"data": ["events", [MOVED, MOVED]], "namespace": "/drill"},
    {"packet_type": sio_packet.ACK, "data": [{"ok": True}], "id": 12},
    {"packet_type": sio_packet.CONNECT, "data": {"sid": "abc"}},
    {"packet_type": sio_packet.DISCONNECT},
])
def test_encodes_exactly_as_python_socketio(kwargs: dict[str, Any]) -> None:
    ours, theirs = JsonFirstPacket(**kwargs), sio_packet.Packet(**kwargs)
    assert ours.packet_type == theirs.packet_type
    assert ours.encode() == theirs.encode()


def test_binary_data_still_travels_as_attachments() -> None:
    data = ["event", {"name": "scan.png", "blob": b"\x89PNG"}]
    ours, theirs = JsonFirstPacket(data=data), sio_packet.Packet(data=data)
    assert ours.packet_type == sio_packet.BINARY_EVENT
    assert ours.encode() == theirs.encode()
    assert isinstance(ours.encode(), list) and ours.encode()[1] == b"\x89PNG"


def test_a_decoded_packet_reads_as_before() -> None:
    wire = '2["event",{"a":[1,2,{"b":null}]}]'
    assert JsonFirstPacket(encoded_packet=wire).data == sio_packet.Packet(
        encoded_packet=wire).data


def test_a_json_module_that_encodes_bytes_keeps_the_walk() -> None:
    class Lenient:
        @staticmethod
        def dumps(obj: Any, **kw: Any) -> str:
            return json.dumps(obj, default=lambda o: o.hex(), **kw)

    assert _json_refuses_bytes(json) is True
    assert _json_refuses_bytes(Lenient) is False


def test_the_app_emits_with_it(app: Any) -> None:
    assert socketio.server.packet_class is JsonFirstPacket
