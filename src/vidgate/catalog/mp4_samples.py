"""Where a track's samples are in an MP4, and the units (NAL units, AV1 OBUs) each holds, as offsets.

``catalog.mp4`` reads the parameter sets a decoder meets in the samples, not only the headers', since the
decoder reinitialises at the size an in-band one states. Everything here is integer offsets into the
file's bytes (no copy per unit), and every walk spends a per-file ``Budget``: a crafted 64 MiB file of
millions of samples or units is refused (``OverBudget``), not walked for seconds.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise

# Samples located per file (video tracks): a 600 s clip at 240 fps is 144,000.
MAX_SAMPLES = 2**20
# NAL units or OBUs walked per file: a 600 s 60 fps clip of 16 slices a frame, with an access unit
# delimiter and an SEI each, is 648,000.
MAX_UNITS = 2**21


class OverBudget(Exception):
    """The file holds more samples, chunks or units than a legitimate one does (the file is refused),
    or a sample table no muxer writes."""


@dataclass
class Budget:
    samples: int = MAX_SAMPLES
    units: int = MAX_UNITS


Range = tuple[int, int]


def _u32(data: bytes, at: int) -> int:
    return int(struct.unpack_from(">I", data, at)[0])


def _sizes(data: bytes, tables: dict[bytes, Range]) -> list[int] | None:
    """The sample sizes of an ``stsz`` (ISO/IEC 14496-12 8.7.3.2: sample_size, sample_count, then a u32
    each when sample_size is 0) or ``stz2`` (8.7.3.3: field_size 4, 8 or 16 bits each) payload, as many
    as its size holds; None if neither is readable."""
    if (stsz := tables.get(b"stsz")) is not None and stsz[0] + 12 <= stsz[1]:
        start, end = stsz
        size, count = _u32(data, start + 4), _u32(data, start + 8)
        if size:
            return [size] * min(count, MAX_SAMPLES + 1)
        count = min(count, (end - start - 12) // 4, MAX_SAMPLES + 1)
        return list(struct.unpack_from(f">{count}I", data, start + 12))
    if (stz2 := tables.get(b"stz2")) is not None and stz2[0] + 12 <= stz2[1]:
        start, end = stz2
        bits, count = data[start + 7], _u32(data, start + 8)
        body = data[start + 12 : min(end, start + 12 + min(count, MAX_SAMPLES + 1) * 2)]
        if bits == 16:
            return list(struct.unpack(f">{len(body) // 2}H", body[: len(body) // 2 * 2]))[:count]
        if bits == 8:
            return list(body[: min(count, MAX_SAMPLES + 1)])
        if bits == 4:
            return [nibble for byte in body for nibble in (byte >> 4, byte & 15)][:count]
    return None


def _chunks(data: bytes, tables: dict[bytes, Range]) -> list[int]:
    """The chunk offsets of an ``stco`` (u32) or ``co64`` (u64) payload, as many as its size holds."""
    for kind, width in ((b"stco", 4), (b"co64", 8)):
        if (found := tables.get(kind)) is not None and found[0] + 8 <= found[1]:
            start, end = found
            count = min(_u32(data, start + 4), (end - start - 8) // width, MAX_SAMPLES + 1)
            return list(struct.unpack_from(f">{count}{'I' if width == 4 else 'Q'}", data, start + 8))
    return []


def _runs(data: bytes, stsc: Range | None) -> list[tuple[int, int, int]]:
    """(first_chunk, samples_per_chunk, sample_description_index) of an ``stsc`` payload. A table no
    muxer writes (a first chunk other than 1, chunks not ascending, an empty run) is refused rather than
    mapped otherwise than ffmpeg's demuxer repairs it."""
    if stsc is None or stsc[0] + 8 > stsc[1]:
        return []
    start, end = stsc
    count = min(_u32(data, start + 4), (end - start - 8) // 12)
    if count > MAX_SAMPLES:
        raise OverBudget
    runs = [
        (first, per, entry)
        for first, per, entry in struct.iter_unpack(">III", data[start + 8 : start + 8 + 12 * count])
    ]
    firsts = [first for first, _, _ in runs]
    empty = runs and min(per for _, per, _ in runs) < 1
    if runs and (firsts[0] != 1 or any(b <= a for a, b in pairwise(firsts)) or empty):
        raise OverBudget
    return runs


@dataclass(frozen=True)
class Layout:
    """A track's sample sizes, chunk offsets and ``stsc`` runs: where its samples are."""

    sizes: list[int]
    chunks: list[int]
    runs: list[tuple[int, int, int]]


def layout(data: bytes, tables: dict[bytes, Range], budget: Budget) -> Layout | None:
    """The layout of a track from its ``stsz``/``stz2``, ``stsc`` and ``stco``/``co64`` payloads
    (``tables``), None when it has no samples to locate. More samples or chunks than the budget holds
    raise ``OverBudget``."""
    sizes, chunks = _sizes(data, tables), _chunks(data, tables)
    if not sizes or not chunks:
        return None
    runs = _runs(data, tables.get(b"stsc"))
    budget.samples -= len(sizes)
    if budget.samples < 0 or len(chunks) > MAX_SAMPLES:
        raise OverBudget
    return Layout(sizes, chunks, runs)


def samples(data: bytes, located: Layout) -> Iterator[tuple[int, Range]]:
    """Each sample of a track in file order per chunk, with the sample description index (1-based) its
    ``stsc`` run names: (index, (start, end)). A sample past the file's end is cut at it (a truncated
    ``mdat``), one wholly past it is skipped."""
    sizes, chunks, runs = located.sizes, located.chunks, located.runs
    index = 0
    for run, (first, per, entry) in enumerate(runs):
        last = runs[run + 1][0] - 1 if run + 1 < len(runs) else len(chunks)
        for offset in chunks[first - 1 : last]:
            for size in sizes[index : index + per]:
                if offset < len(data):
                    yield entry, (offset, min(offset + size, len(data)))
                offset += size
            index += per
            if index >= len(sizes):
                return


def length_prefixed(
    data: bytes,
    ranges: Iterable[Range],
    width: int,
    mask: int,
    value: int,
    budget: Budget,
    records: list[Range] | None = None,
) -> list[Range]:
    """(start, end) of each NAL unit whose first byte ``& mask == value`` in samples in the MP4 form
    (each NAL unit after a ``width``-byte length), walking each sample up to a NAL unit overrunning it
    (ffmpeg's decoders give up on the packet there). One loop for all samples: it runs once a unit.
    ``records`` (H.264): the walk stops at a sample that is an H.264 decoder configuration record
    (``is_record``), which ffmpeg's decoder reads as new extradata, its NAL length size included, and
    lists it there; the caller goes on with ``ranges`` in the new framing."""
    found: list[Range] = []
    left = budget.units
    for start, end in ranges:
        if records is not None and is_record(data, start, end):
            records.append((start, end))
            break
        at = start
        while at + width <= end:
            left -= 1
            if left < 0:
                raise OverBudget
            length = int.from_bytes(data[at : at + width], "big")
            at += width
            if at + length > end:
                break
            if length and data[at] & mask == value:
                found.append((at, at + length))
            at += length
    budget.units = left
    return found


def is_record(data: bytes, start: int, end: int) -> bool:
    """Whether the sample ``data[start:end]`` is what ffmpeg's H.264 decoder takes for an
    AVCDecoderConfigurationRecord in a packet (h264dec.c: 9 bytes or more, 01 ?? 00 ?? then FC to FF,
    then ``is_avcc_extradata``: at least one SPS and one PPS, each after its u16 length, all within)."""
    if end - start < 9 or (data[start], data[start + 2]) != (1, 0) or data[start + 4] < 0xFC:
        return False
    count, at = data[start + 5] & 0x1F, start + 6
    for kind in (7, 8):  # the SPSs, then (after their count byte) the PPSs
        if not count:
            return False
        for _ in range(count):
            size = int.from_bytes(data[at : at + 2], "big") + 2
            if size > end - at or (data[at + 2] if at + 2 < end else 0) & 0x9F != kind:
                return False
            at += size
        if kind == 7:
            count, at = (data[at], at + 1) if at < end else (0, at)
    return True


def annex_b(data: bytes, ranges: Iterable[Range], mask: int, value: int, budget: Budget) -> list[Range]:
    """``length_prefixed``'s answer for samples in the Annex B form (each NAL unit after a 00 00 01
    start code), as ffmpeg's decoders read samples when the track has no decoder configuration
    record. A unit runs to the next start code (trailing zeros are the parser's to ignore)."""
    found: list[Range] = []
    left = budget.units
    for start, end in ranges:
        at = data.find(b"\x00\x00\x01", start, end)
        while at >= 0:
            left -= 1
            if left < 0:
                raise OverBudget
            at += 3
            following = data.find(b"\x00\x00\x01", at, end)
            if at < end and data[at] & mask == value:
                found.append((at, end if following < 0 else following))
            at = following
    budget.units = left
    return found


def _leb128(data: bytes, at: int, end: int) -> tuple[int, int]:
    """An AV1 leb128 value (AV1 spec 4.10.5, at most 8 bytes) at ``at``, and where it ends; (-1, end)
    when cut short."""
    value = 0
    for index in range(8):
        if at + index >= end:
            return -1, end
        byte = data[at + index]
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            return value, at + index + 1
    return -1, end


def obus(data: bytes, ranges: Iterable[Range], kind: int, budget: Budget) -> list[Range]:
    """(payload start, end) of each OBU of obu_type ``kind`` in each of ``ranges`` (AV1 spec 5.3: a
    header byte, an extension byte if its flag is set, a leb128 size if obu_has_size_field, else the OBU
    runs to the end of its sample), up to one overrunning its range."""
    found: list[Range] = []
    left = budget.units
    for start, end in ranges:
        at = start
        while at < end:
            left -= 1
            if left < 0:
                raise OverBudget
            header = data[at]
            at += 2 if header & 0x04 else 1
            size = end - at
            if header & 0x02:
                size, at = _leb128(data, at, end)
            if size < 0 or at + size > end:
                break
            if header >> 3 & 0x0F == kind:
                found.append((at, at + size))
            at += size
    budget.units = left
    return found
