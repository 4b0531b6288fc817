"""Tests for the AWS event-stream decoder, with the exact bytes of docs/kiro-upstream.md §3.1."""
import datetime
import struct
import uuid
import zlib

import pytest

from proxy.kiro import eventstream
from proxy.kiro.eventstream import EventStreamDecoder, EventStreamError, Frame

# The spec's worked example, transcribed from its hex dump (124 bytes).
SPEC_EVENT = bytes.fromhex(
    "00 00 00 7c 00 00 00 5c 3b dd cf 78 0b 3a 65 76"
    "65 6e 74 2d 74 79 70 65 07 00 16 61 73 73 69 73"
    "74 61 6e 74 52 65 73 70 6f 6e 73 65 45 76 65 6e"
    "74 0d 3a 63 6f 6e 74 65 6e 74 2d 74 79 70 65 07"
    "00 10 61 70 70 6c 69 63 61 74 69 6f 6e 2f 6a 73"
    "6f 6e 0d 3a 6d 65 73 73 61 67 65 2d 74 79 70 65"
    "07 00 05 65 76 65 6e 74 7b 22 63 6f 6e 74 65 6e"
    "74 22 3a 22 48 69 22 7d b0 2b ab dc"
)

EVENT_HEADERS = {":event-type": "assistantResponseEvent", ":content-type": "application/json",
                 ":message-type": "event"}
EXCEPTION_HEADERS = {":exception-type": "ThrottlingException", ":content-type": "application/json",
                     ":message-type": "exception"}


def _value(value) -> bytes:
    """Encode one header value with the type the spec gives its Python type (strings: 7)."""
    if value is True:
        return b"\x00"
    if value is False:
        return b"\x01"
    if isinstance(value, tuple):  # (type, int) for the sized integer types
        kind, number = value
        return bytes([kind]) + struct.pack({2: ">b", 3: ">h", 4: ">i", 5: ">q", 8: ">q"}[kind], number)
    if isinstance(value, bytes):
        return b"\x06" + struct.pack(">H", len(value)) + value
    if isinstance(value, uuid.UUID):
        return b"\x09" + value.bytes
    raw = value.encode()
    return b"\x07" + struct.pack(">H", len(raw)) + raw


def encode(headers: dict, payload: bytes) -> bytes:
    """Build one valid frame (test-local; the proxy never encodes)."""
    block = b"".join(bytes([len(n)]) + n.encode() + _value(v) for n, v in headers.items())
    total = 16 + len(block) + len(payload)
    prelude = struct.pack(">II", total, len(block))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + block + payload
    return body + struct.pack(">I", zlib.crc32(body))


def event(event_type: str = "assistantResponseEvent", payload: bytes = b'{"content":"Hi"}') -> bytes:
    """An `event` frame with the usual three headers."""
    return encode({":event-type": event_type, ":content-type": "application/json",
                   ":message-type": "event"}, payload)


def decode_all(data: bytes) -> list[Frame]:
    """Decode `data` fed in one piece, asserting nothing is left over."""
    decoder = EventStreamDecoder()
    frames = decoder.feed(data)
    assert decoder.buffered == 0
    return frames


# ---------------------------------------------------------------- the spec's worked examples

def test_spec_event_bytes_match_the_test_encoder():
    assert len(SPEC_EVENT) == 124
    assert encode(EVENT_HEADERS, b'{"content":"Hi"}') == SPEC_EVENT


def test_spec_event_crcs_are_the_documented_values():
    assert SPEC_EVENT[:12].hex() == "0000007c0000005c3bddcf78"
    assert zlib.crc32(SPEC_EVENT[:8]) == 0x3BDDCF78
    assert zlib.crc32(SPEC_EVENT[:-4]) == 0xB02BABDC
    assert SPEC_EVENT[-4:].hex() == "b02babdc"


def test_spec_event_decodes():
    [frame] = decode_all(SPEC_EVENT)
    assert frame.headers == EVENT_HEADERS
    assert list(frame.headers) == [":event-type", ":content-type", ":message-type"]
    assert frame.payload == b'{"content":"Hi"}'
    assert frame.message_type == "event"
    assert frame.event_type == "assistantResponseEvent"
    assert frame.exception_type is None


def test_spec_exception_frame_matches_documented_prefix_and_crc():
    data = encode(EXCEPTION_HEADERS, b'{"message":"Too many requests"}')
    assert len(data) == 144
    assert data[:12].hex() == "00000090000000618e91a9b7"
    assert data[-4:].hex() == "feb6d812"
    [frame] = decode_all(data)
    assert frame.message_type == "exception"
    assert frame.exception_type == "ThrottlingException"
    assert frame.event_type is None
    assert frame.payload == b'{"message":"Too many requests"}'


# ---------------------------------------------------------------- buffering

def test_every_split_point_decodes_identically():
    stream = SPEC_EVENT + encode(EXCEPTION_HEADERS, b'{"message":"Too many requests"}')
    expected = decode_all(stream)
    assert len(expected) == 2
    for cut in range(len(stream) + 1):
        decoder = EventStreamDecoder()
        frames = decoder.feed(stream[:cut]) + decoder.feed(stream[cut:])
        assert frames == expected, cut
        assert decoder.buffered == 0


def test_byte_at_a_time_yields_each_frame_on_its_last_byte():
    decoder = EventStreamDecoder()
    out = [decoder.feed(SPEC_EVENT[i:i + 1]) for i in range(len(SPEC_EVENT))]
    assert all(batch == [] for batch in out[:-1])
    assert [f.payload for f in out[-1]] == [b'{"content":"Hi"}']


def test_several_frames_in_one_chunk_come_out_in_order():
    chunk = b"".join(event(payload=b'{"content":"%d"}' % i) for i in range(5))
    frames = decode_all(chunk)
    assert [f.payload for f in frames] == [b'{"content":"%d"}' % i for i in range(5)]


def test_partial_tail_is_kept_until_completed():
    decoder = EventStreamDecoder()
    frames = decoder.feed(SPEC_EVENT + SPEC_EVENT[:30])
    assert len(frames) == 1
    assert decoder.buffered == 30
    assert len(decoder.feed(SPEC_EVENT[30:])) == 1
    assert decoder.buffered == 0


def test_empty_feed_returns_nothing():
    assert EventStreamDecoder().feed(b"") == []


def test_minimal_frame_without_headers_or_payload():
    data = encode({}, b"")
    assert len(data) == 16
    [frame] = decode_all(data)
    assert frame == Frame(headers={}, payload=b"")
    assert frame.message_type is None


# ---------------------------------------------------------------- header value types

def test_all_header_value_types_decode():
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    headers = {
        "t": True, "f": False, "b": (2, -5), "s": (3, -300), "i": (4, 70000),
        "l": (5, -(2 ** 40)), "raw": b"\x00\xff", "str": "héllo", "ts": (8, 1_700_000_000_123),
        "id": ident,
    }
    [frame] = decode_all(encode(headers, b"x"))
    assert frame.headers == {
        "t": True, "f": False, "b": -5, "s": -300, "i": 70000, "l": -(2 ** 40),
        "raw": b"\x00\xff", "str": "héllo",
        "ts": datetime.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=datetime.timezone.utc),
        "id": ident,
    }


def test_non_string_message_type_is_not_reported():
    [frame] = decode_all(encode({":message-type": (4, 1)}, b""))
    assert frame.message_type is None


# ---------------------------------------------------------------- violations

def _with_crcs(body: bytes) -> bytes:
    """Recompute both CRCs of a hand-edited frame (prelude first, then message)."""
    prelude = body[:8] + struct.pack(">I", zlib.crc32(body[:8]))
    rest = prelude + body[12:-4]
    return rest + struct.pack(">I", zlib.crc32(rest))


def test_bad_prelude_crc_raises():
    data = bytearray(SPEC_EVENT)
    data[8] ^= 0xFF
    with pytest.raises(EventStreamError, match="prelude CRC"):
        EventStreamDecoder().feed(bytes(data))


def test_bad_prelude_crc_is_caught_before_the_frame_is_complete():
    data = bytearray(SPEC_EVENT[:12])
    data[3] ^= 0x01  # the length changed, the CRC did not
    with pytest.raises(EventStreamError, match="prelude CRC"):
        EventStreamDecoder().feed(bytes(data))


def test_bad_message_crc_raises():
    data = bytearray(SPEC_EVENT)
    data[-10] ^= 0x01  # flip a payload bit
    with pytest.raises(EventStreamError, match="message CRC"):
        EventStreamDecoder().feed(bytes(data))


def test_bad_message_crc_in_the_second_frame_still_raises():
    data = bytearray(SPEC_EVENT + SPEC_EVENT)
    data[-1] ^= 0x01
    with pytest.raises(EventStreamError, match="message CRC"):
        EventStreamDecoder().feed(bytes(data))


def test_oversize_frame_raises_from_the_prelude_alone():
    prelude = struct.pack(">II", 16 * 1024 * 1024 + 1, 0)
    prelude += struct.pack(">I", zlib.crc32(prelude))
    with pytest.raises(EventStreamError, match="exceeds the limit"):
        EventStreamDecoder().feed(prelude)


def test_frame_of_exactly_the_limit_is_accepted_as_pending():
    prelude = struct.pack(">II", 16 * 1024 * 1024, 0)
    prelude += struct.pack(">I", zlib.crc32(prelude))
    decoder = EventStreamDecoder()
    assert decoder.feed(prelude) == []
    assert decoder.buffered == 12


def test_custom_limit_is_honoured():
    with pytest.raises(EventStreamError, match="exceeds the limit"):
        EventStreamDecoder(max_frame_length=100).feed(SPEC_EVENT)


def test_total_length_below_minimum_raises():
    prelude = struct.pack(">II", 15, 0)
    prelude += struct.pack(">I", zlib.crc32(prelude))
    with pytest.raises(EventStreamError, match="below the minimum"):
        EventStreamDecoder().feed(prelude)


def test_headers_length_larger_than_frame_raises():
    prelude = struct.pack(">II", 20, 5)  # a 20-byte frame has room for at most 4 header bytes
    prelude += struct.pack(">I", zlib.crc32(prelude))
    with pytest.raises(EventStreamError, match="headers length"):
        EventStreamDecoder().feed(prelude)


def test_header_running_past_its_block_raises():
    # headers_length 3 covers name_len=1, name "a", type 7 but not the string length.
    body = struct.pack(">II", 16 + 3 + 2, 3) + bytes(4) + b"\x01a\x07" + b"\x00\x01" + bytes(4)
    with pytest.raises(EventStreamError, match="middle of a header"):
        EventStreamDecoder().feed(_with_crcs(body))


def test_unknown_header_type_raises():
    body = struct.pack(">II", 16 + 3, 3) + bytes(4) + b"\x01a\x0a" + bytes(4)
    with pytest.raises(EventStreamError, match="unknown value type 10"):
        EventStreamDecoder().feed(_with_crcs(body))


def test_invalid_utf8_header_raises():
    body = struct.pack(">II", 16 + 6, 6) + bytes(4) + b"\x01a\x07\x00\x01\xff" + bytes(4)
    with pytest.raises(EventStreamError, match="UTF-8"):
        EventStreamDecoder().feed(_with_crcs(body))


def test_decoder_refuses_input_after_an_error():
    decoder = EventStreamDecoder()
    with pytest.raises(EventStreamError):
        decoder.feed(b"\x00" * 12)  # zero prelude: CRC of zeros is not zero
    with pytest.raises(EventStreamError, match="already failed"):
        decoder.feed(SPEC_EVENT)


# ---------------------------------------------------------------- the header cache and the buffer

def test_repeated_header_blocks_decode_to_independent_dicts():
    first, second = decode_all(event() + event())
    assert first.headers == second.headers == EVENT_HEADERS
    first.headers[":event-type"] = "changed"  # a caller's change must not reach later frames
    assert decode_all(event())[0].headers == EVENT_HEADERS


def test_header_cache_stays_bounded_and_correct():
    frames = decode_all(b"".join(event(f"type{i}") for i in range(3 * eventstream.HEADER_CACHE_SIZE)))
    assert [f.event_type for f in frames] == [f"type{i}" for i in range(3 * eventstream.HEADER_CACHE_SIZE)]
    assert len(eventstream._HEADER_CACHE) <= eventstream.HEADER_CACHE_SIZE


def test_a_bad_header_block_fails_every_time():
    body = struct.pack(">II", 16 + 3, 3) + bytes(4) + b"\x01a\x0a" + bytes(4)
    for _ in range(2):
        with pytest.raises(EventStreamError, match="unknown value type 10"):
            EventStreamDecoder().feed(_with_crcs(body))


def test_message_crc_is_checked_when_the_header_block_is_cached():
    decode_all(SPEC_EVENT)
    data = bytearray(SPEC_EVENT)
    data[-10] ^= 0x01
    with pytest.raises(EventStreamError, match="message CRC"):
        EventStreamDecoder().feed(bytes(data))


def test_a_large_frame_in_many_reads_and_other_buffer_types():
    payload = b'{"content":"' + b"x" * 200_000 + b'"}'
    stream = event(payload=payload) + SPEC_EVENT
    decoder = EventStreamDecoder()
    frames = []
    for i in range(0, len(stream), 997):
        piece = stream[i:i + 997]
        frames += decoder.feed(bytearray(piece) if i % 2 else memoryview(piece))
        assert decoder.buffered == (i + len(piece)) - sum(len(encode(f.headers, f.payload)) for f in frames)
    assert [f.payload for f in frames] == [payload, b'{"content":"Hi"}']
    assert decoder.buffered == 0


def test_buffered_after_a_failure_counts_from_the_bad_frame():
    decoder = EventStreamDecoder()
    bad = bytearray(SPEC_EVENT)
    bad[-1] ^= 0x01
    with pytest.raises(EventStreamError):
        decoder.feed(SPEC_EVENT + bytes(bad))
    assert decoder.buffered == len(bad)
