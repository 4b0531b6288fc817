"""Sans-IO incremental decoder for AWS event-stream frames (the body of a Kiro answer).

Bytes go in as they arrive from the socket, whole `Frame`s come out. Both CRCs and the
length limits are checked; any violation raises `EventStreamError`, after which the
decoder refuses further input (the stream cannot be resynchronised reliably).
See docs/kiro-upstream.md §3.1 for the layout.
"""
from __future__ import annotations

import datetime
import struct
import uuid
import zlib
from dataclasses import dataclass
from typing import Optional

PRELUDE_LENGTH = 12  # total_length, headers_length, prelude_crc
MIN_FRAME_LENGTH = 16  # prelude + message CRC, no headers, no payload
MAX_FRAME_LENGTH = 16 * 1024 * 1024  # a larger frame means corruption, not a big answer

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

# Fixed-size header value types: type -> struct format (all big-endian, signed).
_FIXED = {2: ">b", 3: ">h", 4: ">i", 5: ">q"}


class EventStreamError(Exception):
    """The byte stream is not a valid AWS event stream (bad CRC, length or header)."""


@dataclass(frozen=True)
class Frame:
    """One decoded message: its headers (name -> typed value) and raw payload."""
    headers: dict
    payload: bytes

    def _str_header(self, name: str) -> Optional[str]:
        """A header's value if it is a string, else None."""
        value = self.headers.get(name)
        return value if isinstance(value, str) else None

    @property
    def message_type(self) -> Optional[str]:
        """`:message-type`: 'event', 'exception' or 'error' (None when absent)."""
        return self._str_header(":message-type")

    @property
    def event_type(self) -> Optional[str]:
        """`:event-type`, e.g. 'assistantResponseEvent' (None when absent)."""
        return self._str_header(":event-type")

    @property
    def exception_type(self) -> Optional[str]:
        """`:exception-type`, e.g. 'ThrottlingException' (None when absent)."""
        return self._str_header(":exception-type")


class EventStreamDecoder:
    """Buffers partial input and returns every complete frame on each `feed`.

    Input is kept as the received chunks until the frame they hold is complete, then joined once;
    frames are checked and split through a memoryview of that buffer, so the only per-frame copies
    are the payload (a frame owns its bytes) and the small header block, whose decoded form is
    cached (`_cached_headers`)."""

    def __init__(self, max_frame_length: int = MAX_FRAME_LENGTH):
        self._chunks: list[bytes] = []
        self._size = 0  # bytes held in _chunks
        self._need = PRELUDE_LENGTH  # bytes the next frame needs before anything can be decided
        self._max = max_frame_length
        self._failed = False

    @property
    def buffered(self) -> int:
        """Bytes held that do not yet form a whole frame (non-zero at EOF = truncated frame)."""
        return self._size

    def feed(self, data: bytes) -> list[Frame]:
        """Add `data` and return the frames it completed, in order."""
        if self._failed:
            raise EventStreamError("decoder already failed; the stream cannot continue")
        if data:
            self._chunks.append(bytes(data))
            self._size += len(data)
        if self._size < self._need:
            return []  # a large frame arriving in many reads is joined once, not once per read
        buffer = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        frames: list[Frame] = []
        offset = 0
        try:
            with memoryview(buffer) as view:
                while True:
                    frame_length = self._next_length(buffer, view, offset)
                    if frame_length is None:
                        break
                    frames.append(_decode_frame(buffer, view, offset, frame_length))
                    offset += frame_length
        except EventStreamError:
            self._failed = True
            raise
        finally:
            rest = buffer[offset:] if offset else buffer
            self._chunks = [rest] if rest else []
            self._size = len(rest)
        return frames

    def _next_length(self, buffer: bytes, view: memoryview, offset: int) -> Optional[int]:
        """The length of the frame at `offset` if it is fully buffered, else None (and what it needs)."""
        available = len(buffer) - offset
        if available < PRELUDE_LENGTH:
            self._need = PRELUDE_LENGTH
            return None
        total, headers_length, prelude_crc = struct.unpack_from(">III", buffer, offset)
        # Check the prelude before trusting its lengths: a corrupt length would make us wait forever.
        actual = zlib.crc32(view[offset:offset + 8])
        if actual != prelude_crc:
            raise EventStreamError(
                f"prelude CRC mismatch: frame says {prelude_crc:08x}, computed {actual:08x}")
        if total < MIN_FRAME_LENGTH:
            raise EventStreamError(f"frame length {total} is below the minimum {MIN_FRAME_LENGTH}")
        if total > self._max:
            raise EventStreamError(f"frame length {total} exceeds the limit {self._max}")
        if headers_length > total - MIN_FRAME_LENGTH:
            raise EventStreamError(
                f"headers length {headers_length} does not fit in a frame of {total} bytes")
        if available >= total:
            return total
        self._need = total
        return None


def _decode_frame(buffer: bytes, view: memoryview, offset: int, total: int) -> Frame:
    """Check the message CRC of the whole frame at `offset` and split it into headers and payload."""
    (headers_length,) = struct.unpack_from(">I", buffer, offset + 4)
    end = offset + total - 4
    (message_crc,) = struct.unpack_from(">I", buffer, end)
    actual = zlib.crc32(view[offset:end])
    if actual != message_crc:
        raise EventStreamError(
            f"message CRC mismatch: frame says {message_crc:08x}, computed {actual:08x}")
    headers_start = offset + PRELUDE_LENGTH
    headers_end = headers_start + headers_length
    headers = _cached_headers(buffer[headers_start:headers_end])
    return Frame(headers=headers, payload=buffer[headers_end:end])


# Kiro sends a handful of distinct header blocks (one per event type), so each is decoded once per
# process. Bounded: a stream of ever-new blocks (a header with a per-frame value) restarts the cache.
_HEADER_CACHE: dict[bytes, dict] = {}
HEADER_CACHE_SIZE = 64


def _cached_headers(block: bytes) -> dict:
    """`_decode_headers(block)`, from the cache when this block was seen before (a fresh dict each time)."""
    headers = _HEADER_CACHE.get(block)
    if headers is None:
        headers = _decode_headers(block)  # raises for a bad block, which is never cached
        if len(_HEADER_CACHE) >= HEADER_CACHE_SIZE:
            _HEADER_CACHE.clear()
        _HEADER_CACHE[block] = headers
    return dict(headers)


def _decode_headers(data: bytes) -> dict:
    """Parse the header block: name_len | name | type | value, repeated to the exact end."""
    headers: dict = {}
    pos = 0
    while pos < len(data):
        name_length = data[pos]
        pos += 1
        name = _text(_take(data, pos, name_length), "header name")
        pos += name_length
        value_type = _take(data, pos, 1)[0]
        pos += 1
        value, pos = _decode_value(data, pos, value_type, name)
        headers[name] = value
    return headers


def _decode_value(data: bytes, pos: int, value_type: int, name: str) -> tuple[object, int]:
    """Decode one header value of `value_type` at `pos`; return it and the next position."""
    if value_type == 0:
        return True, pos
    if value_type == 1:
        return False, pos
    if value_type in _FIXED:
        fmt = _FIXED[value_type]
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, _take(data, pos, size))[0], pos + size
    if value_type in (6, 7):
        (length,) = struct.unpack(">H", _take(data, pos, 2))
        raw = _take(data, pos + 2, length)
        value = raw if value_type == 6 else _text(raw, f"header {name!r}")
        return value, pos + 2 + length
    if value_type == 8:
        (millis,) = struct.unpack(">q", _take(data, pos, 8))
        return _EPOCH + datetime.timedelta(milliseconds=millis), pos + 8
    if value_type == 9:
        return uuid.UUID(bytes=_take(data, pos, 16)), pos + 16
    raise EventStreamError(f"header {name!r} has unknown value type {value_type}")


def _take(data: bytes, pos: int, size: int) -> bytes:
    """`size` bytes at `pos`, or an error if the header block ends first."""
    if pos + size > len(data):
        raise EventStreamError("header block ends in the middle of a header")
    return data[pos:pos + size]


def _text(raw: bytes, what: str) -> str:
    """Decode UTF-8, turning a decoding failure into an EventStreamError."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise EventStreamError(f"{what} is not valid UTF-8") from e
