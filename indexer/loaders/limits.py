"""What reading one plan file may cost, and the checks that keep a hostile file within it.

An admin can upload any bytes under a plan's name: a .docx whose parts inflate to gigabytes,
XML declaring nested entities, a PDF with a page of 30,000 × 30,000 points or a 900-megapixel
image, ten thousand pages, a .doc that hangs the converter. Each is refused in one Vietnamese
line (`PlanbotError`) before anything is inflated, parsed or rendered in full: sizes are read
from the container's directory (zip central directory, PDF page tree, image dictionaries) and
inflation is streamed with a hard cap, since a declared size can lie.

The limits are settings (`indexer.settings`, `.env.example`), read once; their defaults leave
room for real plans: a 300-page scanned PDF, a 20 MB .docx with photos, an A3 appendix.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from knowledge.errors import PlanbotError

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 50 * MB  # a plan file larger than this is refused unread
    unzipped_bytes: int = 300 * MB  # all parts of a .docx package, uncompressed
    xml_bytes: int = 25 * MB  # one XML part of a .docx (parsed whole by lxml: ~10× in memory)
    zip_ratio: int = 200  # uncompressed / compressed, for a part over 1 MB uncompressed
    zip_entries: int = 5000  # parts in a .docx package
    pages: int = 1000  # pages of a PDF
    stream_bytes: int = (
        16 * MB
    )  # one PDF stream other than an image or a font (page content), decoded
    page_pixels: int = 40_000_000  # a page rendered for OCR (above: rendered at a lower dpi)
    image_pixels: int = 150_000_000  # one image on a page rendered for OCR, as declared
    text_chars: int = 5_000_000  # characters of text a plan may hold (parsing is ~linear)
    convert_timeout: float = 120.0  # seconds LibreOffice may take to convert a .doc
    soffice: str = ""  # LibreOffice program for .doc; empty: soffice/libreoffice on PATH


def limits_from_env(env: dict[str, str]) -> Limits:
    """Limits from PLANBOT_MAX_* / PLANBOT_CONVERT_TIMEOUT / PLANBOT_SOFFICE (defaults when unset
    or unreadable)."""
    default = Limits()

    def number(key: str, fallback: float, scale: float = 1.0) -> float:
        try:
            value = float(env.get(key, "") or "nan") * scale
        except ValueError:
            return fallback
        return value if value > 0 else fallback

    return Limits(
        file_bytes=int(number("PLANBOT_MAX_FILE_MB", default.file_bytes, MB)),
        unzipped_bytes=int(number("PLANBOT_MAX_UNZIPPED_MB", default.unzipped_bytes, MB)),
        xml_bytes=int(number("PLANBOT_MAX_XML_MB", default.xml_bytes, MB)),
        zip_ratio=int(number("PLANBOT_MAX_ZIP_RATIO", default.zip_ratio)),
        zip_entries=int(number("PLANBOT_MAX_ZIP_ENTRIES", default.zip_entries)),
        pages=int(number("PLANBOT_MAX_PAGES", default.pages)),
        stream_bytes=int(number("PLANBOT_MAX_STREAM_MB", default.stream_bytes, MB)),
        page_pixels=int(number("PLANBOT_MAX_PAGE_MPX", default.page_pixels, 1e6)),
        image_pixels=int(number("PLANBOT_MAX_IMAGE_MPX", default.image_pixels, 1e6)),
        text_chars=int(number("PLANBOT_MAX_TEXT_MCHARS", default.text_chars, 1e6)),
        convert_timeout=number("PLANBOT_CONVERT_TIMEOUT", default.convert_timeout),
        soffice=env.get("PLANBOT_SOFFICE", "").strip(),
    )


_ACTIVE: Limits | None = None


def active() -> Limits:
    """The limits in force: the settings' (read once, on first use), unless `use` set others."""
    global _ACTIVE
    if _ACTIVE is None:
        from indexer.settings import load_settings  # settings import this module

        _ACTIVE = load_settings().limits
    return _ACTIVE


def use(limits: Limits | None) -> None:
    """Put `limits` in force (None: the settings' again, read on next use)."""
    global _ACTIVE
    _ACTIVE = limits


def mb(size: float) -> str:
    """A size as Vietnamese write it: "20 MB", "1,5 GB"."""
    if size >= 1024 * MB:
        return f"{size / 1024 / MB:.1f} GB".replace(".", ",")
    return f"{size / MB:.0f} MB"


def too_much_text(name: str, most: int) -> PlanbotError:
    return PlanbotError(
        f"Tệp '{name}' chứa quá nhiều chữ (hơn {most / 1e6:g} triệu ký tự): không phải một kế hoạch, không đọc."
    )


# -- .docx packages --------------------------------------------------------------------------

_XML_GUARDS = tuple(
    word.encode(encoding)
    for word in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
_CHUNK = 1 << 20


def check_package(name: str, data: bytes, limits: Limits) -> None:
    """Refuse a .docx package that would cost too much to open: too many parts, parts declaring
    (or actually inflating to) more than the limits, an inflation ratio only a zip bomb has,
    XML with a document type declaration (entities: "billion laughs"; Word never writes one).
    Every part is inflated as a stream with a hard cap, nothing is kept."""
    entries = _zip_entry_count(data)
    if entries is not None and entries > limits.zip_entries:
        raise PlanbotError(
            f"Tệp '{name}' chứa quá nhiều thành phần ({entries}; tối đa {limits.zip_entries}): không đọc."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))  # shares the bytes, no copy
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise PlanbotError(f"Tệp '{name}' không phải .docx hợp lệ.") from exc
    if len(infos) > limits.zip_entries:
        raise PlanbotError(
            f"Tệp '{name}' chứa quá nhiều thành phần ({len(infos)}; tối đa {limits.zip_entries}): không đọc."
        )
    declared = sum(info.file_size for info in infos)
    if declared > limits.unzipped_bytes:
        raise _bomb(name, declared, limits)
    total = 0
    for info in infos:
        cap = min(
            limits.xml_bytes if _is_xml(info.filename) else limits.unzipped_bytes, info.file_size
        )
        if _is_xml(info.filename) and info.file_size > limits.xml_bytes:
            raise PlanbotError(
                f"Tệp '{name}': phần '{info.filename}' quá lớn khi giải nén ({mb(info.file_size)}; "
                f"tối đa {mb(limits.xml_bytes)}): không đọc."
            )
        if info.file_size > MB and info.file_size > limits.zip_ratio * max(info.compress_size, 1):
            raise _bomb(name, info.file_size, limits, info.compress_size)
        total += _inflate_capped(name, archive, info, cap, limits)
        if total > limits.unzipped_bytes:
            raise _bomb(name, total, limits)


def _bomb(name: str, size: int, limits: Limits, packed: int | None = None) -> PlanbotError:
    ratio = f" từ {mb(packed)}" if packed is not None else ""
    return PlanbotError(
        f"Tệp '{name}' giải nén ra quá lớn ({mb(size)}{ratio}; tối đa {mb(limits.unzipped_bytes)}, "
        f"nén không quá {limits.zip_ratio} lần): có thể là tệp độc hại, không đọc."
    )


def _is_xml(filename: str) -> bool:
    return filename.lower().endswith((".xml", ".rels"))


def _inflate_capped(
    name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, limits: Limits
) -> int:
    """Bytes the part really inflates to, read in chunks and stopped past `cap` (its declared
    size at most); XML parts are searched for a DOCTYPE/ENTITY declaration on the way."""
    xml = _is_xml(info.filename)
    size, tail = 0, b""
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > cap:
                    raise _bomb(name, size, limits)
                if xml:
                    window = tail + chunk
                    if any(guard in window for guard in _XML_GUARDS):
                        raise PlanbotError(
                            f"Tệp '{name}': phần '{info.filename}' khai báo DOCTYPE/ENTITY "
                            "(Word không bao giờ ghi; có thể là tệp độc hại): không đọc."
                        )
                    tail = window[-32:]
    except PlanbotError:
        raise
    except Exception as exc:  # bad CRC (a size that lied), unknown compression, damaged stream
        raise PlanbotError(
            f"Tệp '{name}' không phải .docx hợp lệ (thành phần '{info.filename}' hỏng)."
        ) from exc
    return size


def _zip_entry_count(data: bytes) -> int | None:
    """Entries the zip's end-of-central-directory record announces, read before zipfile builds
    one object per entry (None when the record is not found: zipfile will say so)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 > len(data):
        return None
    (count,) = struct.unpack_from("<H", data, end + 10)
    if count != 0xFFFF:
        return count
    locator = end - 20  # zip64: the count is in the zip64 end record
    if locator < 0 or data[locator : locator + 4] != b"PK\x06\x07":
        return None
    (offset,) = struct.unpack_from("<Q", data, locator + 8)
    if offset + 56 > len(data) or data[offset : offset + 4] != b"PK\x06\x06":
        return None
    return struct.unpack_from("<Q", data, offset + 32)[0]


# -- PDF streams ------------------------------------------------------------------------------

_STREAM = re.compile(rb">>\s{0,8}stream(?:\r\n|\n|\r)")  # a stream's dictionary ends right before
_FLATE = re.compile(rb"/Fl(?:ateDecode)?(?![A-Za-z])")
_FONT_FILE3 = re.compile(rb"/Subtype\s*/(?:Type1C|CIDFontType0C|OpenType)")
_MAX_STREAMS = 100_000  # a 1,000-page plan with its fonts and images has a few thousand


def check_pdf_streams(name: str, data: bytes, limits: Limits) -> None:
    """Refuse a PDF holding a Flate stream that inflates beyond the limit (pdfminer inflates a
    page's content whole in memory), or streams inflating to more than 8 times the limit
    together (embedded fonts, which may be large, count only there). Each is inflated as a
    stream with a hard cap, nothing kept; images are left to the page checks (decoded only when
    rendered), encrypted or damaged streams to the reader."""
    total = 0
    for count, match in enumerate(_STREAM.finditer(data)):
        if count >= _MAX_STREAMS:
            raise PlanbotError(
                f"PDF '{name}' chứa quá nhiều luồng dữ liệu (hơn {_MAX_STREAMS}): không đọc."
            )
        start = match.start()
        opened = data.rfind(b"obj", max(0, start - 2048), start)
        head = data[opened + 3 if opened >= 0 else max(0, start - 2048) : start]  # its dictionary
        if b"/Image" in head or not _FLATE.search(head):
            continue
        font = b"/Length1" in head or _FONT_FILE3.search(head) is not None  # FontFile(2), FontFile3
        most = 8 * limits.stream_bytes - total if font else limits.stream_bytes
        size = _inflated_size(data, match.end(), most)
        total += size
        if size > most or total > 8 * limits.stream_bytes:
            raise PlanbotError(
                f"PDF '{name}' chứa dữ liệu nén giải nén ra quá lớn (một luồng tối đa {mb(limits.stream_bytes)}): "
                "có thể là tệp độc hại, không đọc."
            )


def _inflated_size(data: bytes, start: int, cap: int) -> int:
    """Bytes the deflate stream at `start` inflates to, counted in 1 MB steps up to past `cap`."""
    inflater, size, position = zlib.decompressobj(), 0, start
    try:
        while not inflater.eof:
            piece = inflater.unconsumed_tail
            if not piece:
                if position >= len(data):
                    break
                piece, position = data[position : position + 65_536], position + 65_536
            size += len(inflater.decompress(piece, _CHUNK))
            if size > cap:
                break
    except zlib.error:  # not deflate data after all (encrypted, another filter first, damaged)
        pass
    return size
