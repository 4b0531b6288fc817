"""AWS event-stream frames for the fake Kiro: encoder, exception frames and a small decoder.

Written from the frame layout in docs/kiro-upstream.md §3.1 and deliberately independent of
`proxy/` so that a bug in the proxy's decoder cannot hide behind the same bug in the fake.
"""
from __future__ import annotations

import json
import struct
import zlib
from typing import Iterable, Mapping, Union

STRING_TYPE = 7  # Kiro only ever uses string-typed header values
PRELUDE_LEN = 12
MIN_FRAME = 16

Headers = Union[Mapping[str, str], Iterable[tuple[str, str]]]


class FrameError(ValueError):
    """A byte sequence that is not a valid event-stream frame (bad length or CRC)."""


def _header_items(headers: Headers) -> list[tuple[str, str]]:
    """Headers as an ordered list of (name, value) pairs."""
    return list(headers.items()) if isinstance(headers, Mapping) else list(headers)


def encode_headers(headers: Headers) -> bytes:
    """Encode string headers as `name_len | name | 7 | value_len(u16) | value`."""
    out = bytearray()
    for name, value in _header_items(headers):
        raw_name = name.encode("ascii")
        raw_value = value.encode("utf-8")
        out += bytes([len(raw_name)]) + raw_name + bytes([STRING_TYPE])
        out += struct.pack(">H", len(raw_value)) + raw_value
    return bytes(out)


def encode_frame(headers: Headers, payload: bytes) -> bytes:
    """One CRC-correct frame: prelude (lengths + CRC), headers, payload, message CRC."""
    raw_headers = encode_headers(headers)
    total = MIN_FRAME + len(raw_headers) + len(payload)
    prelude = struct.pack(">II", total, len(raw_headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + raw_headers + payload
    return message + struct.pack(">I", zlib.crc32(message))


def json_bytes(obj: object) -> bytes:
    """Compact UTF-8 JSON, the way Kiro payloads look on the wire."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event_frame(event_type: str, payload: object) -> bytes:
    """An `event` frame; header order as in the §3.1 worked example."""
    headers = [(":event-type", event_type), (":content-type", "application/json"),
               (":message-type", "event")]
    return encode_frame(headers, json_bytes(payload))


def exception_frame(exception_type: str, message: str) -> bytes:
    """An `exception` frame such as a mid-stream ThrottlingException."""
    headers = [(":exception-type", exception_type), (":content-type", "application/json"),
               (":message-type", "exception")]
    return encode_frame(headers, json_bytes({"message": message}))


def corrupt_crc(frame: bytes) -> bytes:
    """The same frame with its message CRC flipped (fault `bad_crc`)."""
    return frame[:-1] + bytes([frame[-1] ^ 0xFF])


def _decode_headers(raw: bytes) -> dict[str, str]:
    """Decode string-only headers (other value types are not used by Kiro)."""
    headers: dict[str, str] = {}
    pos = 0
    while pos < len(raw):
        name_len = raw[pos]
        name = raw[pos + 1:pos + 1 + name_len].decode("ascii")
        pos += 1 + name_len
        if raw[pos] != STRING_TYPE:
            raise FrameError(f"unsupported header value type {raw[pos]}")
        (value_len,) = struct.unpack_from(">H", raw, pos + 1)
        headers[name] = raw[pos + 3:pos + 3 + value_len].decode("utf-8")
        pos += 3 + value_len
    return headers


def decode_frames(data: bytes) -> tuple[list[tuple[dict[str, str], bytes]], bytes]:
    """Split `data` into complete frames, verifying both CRCs; return (frames, leftover bytes)."""
    frames = []
    pos = 0
    while len(data) - pos >= PRELUDE_LEN:
        total, header_len, prelude_crc = struct.unpack_from(">III", data, pos)
        if zlib.crc32(data[pos:pos + 8]) != prelude_crc:
            raise FrameError("prelude CRC mismatch")
        if total < MIN_FRAME or header_len > total - MIN_FRAME:
            raise FrameError(f"bad frame lengths total={total} headers={header_len}")
        if len(data) - pos < total:
            break
        frame = data[pos:pos + total]
        (message_crc,) = struct.unpack_from(">I", frame, total - 4)
        if zlib.crc32(frame[:-4]) != message_crc:
            raise FrameError("message CRC mismatch")
        headers = _decode_headers(frame[PRELUDE_LEN:PRELUDE_LEN + header_len])
        frames.append((headers, frame[PRELUDE_LEN + header_len:-4]))
        pos += total
    return frames, data[pos:]


def decode_events(data: bytes) -> list[tuple[str, object]]:
    """Decode a whole stream into (event-or-exception type, parsed JSON payload) pairs."""
    frames, rest = decode_frames(data)
    if rest:
        raise FrameError(f"{len(rest)} trailing bytes")
    out = []
    for headers, payload in frames:
        kind = headers.get(":event-type") or headers.get(":exception-type") or ""
        out.append((kind, json.loads(payload.decode("utf-8"))))
    return out
