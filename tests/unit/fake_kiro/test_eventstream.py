"""Tests for tests/fake_kiro/eventstream.py against the §3.1 worked examples."""
import pytest

from tests.fake_kiro.eventstream import (FrameError, corrupt_crc, decode_events, decode_frames, encode_frame,
                                         event_frame, exception_frame)

WORKED_EXAMPLE = bytes.fromhex(  # the 124-byte frame printed in kiro-upstream.md §3.1
    "0000007c0000005c3bddcf780b3a6576656e742d747970650700166173736973"
    "74616e74526573706f6e73654576656e740d3a636f6e74656e742d7479706507"
    "00106170706c69636174696f6e2f6a736f6e0d3a6d6573736167652d74797065"
    "0700056576656e747b22636f6e74656e74223a224869227db02babdc")


def test_event_frame_matches_worked_example_byte_for_byte():
    assert event_frame("assistantResponseEvent", {"content": "Hi"}) == WORKED_EXAMPLE


def test_exception_frame_matches_worked_example_edges():
    frame = exception_frame("ThrottlingException", "Too many requests")
    assert len(frame) == 144
    assert frame[:12] == bytes.fromhex("00000090000000618e91a9b7")
    assert frame[-4:] == bytes.fromhex("feb6d812")


def test_encode_frame_roundtrips_headers_and_payload():
    frame = encode_frame({":message-type": "event", "x": "ünï"}, b'{"a":1}')
    frames, rest = decode_frames(frame)
    assert frames == [({":message-type": "event", "x": "ünï"}, b'{"a":1}')] and rest == b""


def test_decode_frames_keeps_partial_frame_as_leftover():
    stream = event_frame("a", {"content": "x"}) + event_frame("b", {"content": "y"})
    frames, rest = decode_frames(stream[:-5])
    assert [h[":event-type"] for h, _ in frames] == ["a"]
    assert rest == stream[len(event_frame("a", {"content": "x"})):-5]


def test_corrupt_crc_is_detected():
    with pytest.raises(FrameError, match="message CRC"):
        decode_frames(corrupt_crc(WORKED_EXAMPLE))


def test_decode_events_parses_payloads_and_exception_types():
    stream = event_frame("meteringEvent", {"usage": 0.5}) + exception_frame("ThrottlingException", "slow down")
    assert decode_events(stream) == [("meteringEvent", {"usage": 0.5}),
                                     ("ThrottlingException", {"message": "slow down"})]


def test_payload_is_compact_utf8_json():
    frame = event_frame("assistantResponseEvent", {"content": "18°C"})
    assert b'{"content":"18\xc2\xb0C"}' in frame
