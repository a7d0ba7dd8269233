"""Bag files as they are on disk, whoever wrote them: opening with one-line errors, counting
what a bag really holds (not what its metadata.yaml claims) and the chunk CRCs of the MCAP
files we write (rosbags writes 0, "no CRC"; readers then cannot tell a corrupted chunk)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rosbags.highlevel import AnyReader

MCAP_MAGIC = b"\x89MCAP0\r\n"
OPCODE_CHUNK, OPCODE_FOOTER = 0x06, 0x02


class BagError(ValueError):
    """A bag cannot be used; the text says which and why, in one line."""


@contextmanager
def open_bag(path: Path) -> Iterator[AnyReader]:
    """An open rosbags reader of the bag folder ``path``; any failure to open or read it
    (missing, empty, truncated, corrupt, an unknown storage) is a BagError."""
    if not path.exists():
        raise BagError(f"no bag at {path}")
    try:
        reader = AnyReader([path])
        reader.open()
    except Exception as exc:  # noqa: BLE001 - rosbags raises many kinds on a bad file
        raise BagError(f"bag {path} cannot be opened: {_one_line(exc)}") from None
    try:
        yield reader
    except BagError:
        raise
    except Exception as exc:  # noqa: BLE001 - a chunk that is cut off or fails its CRC
        raise BagError(f"bag {path} cannot be read: {_one_line(exc)}") from None
    finally:
        reader.close()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


@dataclass(frozen=True)
class TopicCount:
    topic: str
    msgtype: str
    messages: int  # counted in the file
    claimed: int  # what the bag's metadata says


@dataclass(frozen=True)
class BagContents:
    topics: list[TopicCount]
    duration_s: float  # first to last message actually read

    @property
    def messages(self) -> int:
        return sum(t.messages for t in self.topics)


def bag_contents(path: Path) -> BagContents:
    """What the bag at ``path`` holds, read message by message (without deserializing)."""
    with open_bag(path) as reader:
        counts = {c.id: 0 for c in reader.connections}
        first = last = None
        for connection, stamp, _ in reader.messages():
            counts[connection.id] += 1
            first = stamp if first is None else min(first, stamp)
            last = stamp if last is None else max(last, stamp)
        topics = [
            TopicCount(c.topic, c.msgtype, counts[c.id], c.msgcount)
            for c in sorted(reader.connections, key=lambda c: c.topic)
        ]
    return BagContents(topics, 0.0 if first is None else (last - first) * 1e-9)


def add_chunk_crcs(mcap: Path) -> int:
    """Fill in the CRC-32 of every uncompressed chunk of the MCAP file ``mcap`` (the
    ``uncompressed_crc`` field of each Chunk record, MCAP specification); how many."""
    data = bytearray(mcap.read_bytes())
    if not data.startswith(MCAP_MAGIC):
        raise BagError(f"{mcap} is not an MCAP file")
    offset, patched = len(MCAP_MAGIC), 0
    while offset + 9 <= len(data):
        opcode = data[offset]
        (length,) = struct.unpack_from("<Q", data, offset + 1)
        body = offset + 9
        if opcode == OPCODE_FOOTER:
            break
        if opcode == OPCODE_CHUNK:
            crc_at = body + 24  # after message start, end and uncompressed size
            (compression_length,) = struct.unpack_from("<I", data, crc_at + 4)
            compression = bytes(data[crc_at + 8 : crc_at + 8 + compression_length])
            records_at = crc_at + 8 + compression_length
            (records_length,) = struct.unpack_from("<Q", data, records_at)
            if compression == b"":
                records = data[records_at + 8 : records_at + 8 + records_length]
                struct.pack_into("<I", data, crc_at, zlib.crc32(records))
                patched += 1
        offset = body + length
    mcap.write_bytes(bytes(data))
    return patched
