"""Hostile plan files, built small and fast in a temporary folder (nothing big is committed):
zip bombs written as a repeated, fully flushed deflate block; XML entity bombs; PDFs written by
hand with giant pages, giant images or ten thousand pages; a converter that never returns."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

from docx import Document as WordDocument

from tests.pdfs import _pdf

MB = 1024 * 1024
_PARAGRAPH = (
    b"<w:p><w:r><w:t>Giao S\xe1\xbb\x9f Y t\xe1\xba\xbf ch\xe1\xbb\xa7 tr\xc3\xac</w:t></w:r></w:p>"
)


def small_docx(text: str = "Kế hoạch triển khai nhiệm vụ năm 2025") -> bytes:
    doc = WordDocument()
    doc.add_paragraph(text)
    doc.add_paragraph("Điểm một", style="List Number")  # numbering.xml is part of the package
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _raw_zip(entries: list[tuple[str, int, int, bytes, int]]) -> bytes:
    """A zip written by hand: (name, method, crc, stored bytes, declared uncompressed size)."""
    out, central = bytearray(), bytearray()
    for name, method, crc, stored, size in entries:
        encoded = name.encode()
        offset = len(out)
        out += struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            0,
            method,
            0,
            0x21,
            crc,
            len(stored),
            size,
            len(encoded),
            0,
        )
        out += encoded + stored
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            method,
            0,
            0x21,
            crc,
            len(stored),
            size,
            len(encoded),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += encoded
    start = len(out)
    out += central
    out += struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), start, 0
    )
    return bytes(out)


def deflate_bomb(head: bytes, chunk: bytes, repeats: int, tail: bytes) -> tuple[bytes, int, int]:
    """Raw deflate data inflating to head + chunk × repeats + tail, built without compressing
    more than one chunk (each chunk ends with a full flush, so its compressed bytes repeat), and
    the CRC-32 and size of what it inflates to."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    end = packer.compress(tail) + packer.flush()
    crc = zlib.crc32(head)
    for _ in range(repeats):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    return start + block * repeats + end, crc, len(head) + repeats * len(chunk) + len(tail)


def zip_bomb_docx(inflated: int = 1536 * MB, declared: int | None = None) -> bytes:
    """A .docx whose word/document.xml inflates to `inflated` bytes from about inflated/1000;
    `declared`: the uncompressed size its zip directory claims (default: the truth)."""
    parts = _parts(small_docx())
    head, _, _ = parts["word/document.xml"].partition(b"<w:body>")
    head += b"<w:body>"
    tail = b"</w:body></w:document>"
    chunk = _PARAGRAPH * (MB // len(_PARAGRAPH))
    repeats = max(1, (inflated - len(head) - len(tail)) // len(chunk))
    deflated, crc, size = deflate_bomb(head, chunk, repeats, tail)
    entries = []
    for name, content in parts.items():
        if name == "word/document.xml":
            entries.append(
                (name, zipfile.ZIP_DEFLATED, crc, deflated, size if declared is None else declared)
            )
        else:
            entries.append((name, zipfile.ZIP_STORED, zlib.crc32(content), content, len(content)))
    return _raw_zip(entries)


def entity_bomb_docx(part: str) -> bytes:
    """A .docx whose `part` (word/document.xml, word/numbering.xml, word/styles.xml) declares
    the "billion laughs" entities and uses the last one."""
    parts = _parts(small_docx())
    xml = parts[part]
    lol = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    prolog, _, rest = xml.partition(b"?>")
    root = rest.lstrip()[1:].split(b" ", 1)[0].split(b">", 1)[0].decode()
    doctype = f"<!DOCTYPE {root} [{''.join(lol)}]>".encode()
    if part == "word/document.xml":
        body = rest.replace(b"<w:body>", b"<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>", 1)
    else:
        body = rest.replace(b'w:val="', b'w:val="&lol9;', 1)  # in an attribute: always expanded
    parts[part] = prolog + b"?>\n" + doctype + body
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return out.getvalue()


_CATALOG = "<< /Type /Catalog /Pages 2 0 R >>"
_FONT = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _stream(dictionary: str, data: bytes) -> str:
    return f"<< {dictionary} /Length {len(data)} >>\nstream\n{data.decode('latin-1')}\nendstream"


def huge_page_pdf(side: int = 30_000) -> bytes:
    """One blank page `side` × `side` points (a scan to OCR: no text layer)."""
    return _pdf(
        [
            _CATALOG,
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {side} {side}] >>",
        ]
    )


def huge_image_pdf(pixels: int = 30_000, text_lines: int = 0) -> bytes:
    """An A4 page covered by a `pixels` × `pixels` grey image held in a tiny Flate stream, with
    `text_lines` lines of text on top (0: a scan; 40: a page with a real text layer)."""
    image = zlib.compress(b"\xff" * 65_536, 9)
    lines = [
        f"Dong {i}: So Y te chu tri, phoi hop voi So Noi vu trien khai nhiem vu {i}."
        for i in range(text_lines)
    ]
    text = (
        "BT /F1 10 Tf 40 800 Td 12 TL\n" + "\n".join(f"({line}) '" for line in lines) + "\nET"
        if lines
        else ""
    )
    content = f"q 595 0 0 842 0 0 cm /Im0 Do Q\n{text}".encode()
    return _pdf(
        [
            _CATALOG,
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            "/Resources << /XObject << /Im0 4 0 R >> /Font << /F1 6 0 R >> >> /Contents 5 0 R >>",
            _stream(
                f"/Type /XObject /Subtype /Image /Width {pixels} /Height {pixels} /ColorSpace /DeviceGray "
                "/BitsPerComponent 8 /Filter /FlateDecode",
                image,
            ),
            _stream("", content),
            _FONT,
        ]
    )


def many_pages_pdf(pages: int = 10_000) -> bytes:
    """`pages` pages of one short text line, under a page tree whose /Count lies (1)."""
    kids = " ".join(f"{n} 0 R" for n in range(5, 5 + pages))
    objects = [
        _CATALOG,
        f"<< /Type /Pages /Kids [{kids}] /Count 1 >>",
        _stream(
            "", b"BT /F1 11 Tf 50 420 Td (Ke hoach trien khai nhiem vu nam 2025 cua tinh) Tj ET"
        ),
        _FONT,
    ]
    page = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 3 0 R >>"
    return _pdf(objects + [page] * pages)


def flate_bomb_pdf(inflated: int = 1536 * MB) -> bytes:
    """A one-page PDF whose content stream (FlateDecode) inflates to `inflated` bytes of drawing
    operators from about inflated/1000."""
    text = b"BT /F1 11 Tf 50 420 Td (Ke hoach trien khai nhiem vu) Tj ET\n"
    chunk = b"0 0 m 1 1 l S\n" * (MB // 14)
    raw, _, _ = deflate_bomb(text, chunk, max(1, inflated // len(chunk)), b"")
    adler = zlib.adler32(text)
    for _ in range(max(1, inflated // len(chunk))):
        adler = zlib.adler32(chunk, adler)
    content = b"\x78\xda" + raw + struct.pack(">I", adler)  # the zlib wrapper FlateDecode reads
    return _pdf(
        [
            _CATALOG,
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            "/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
            _stream("/Filter /FlateDecode", content),
            _FONT,
        ]
    )


OLE_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def hanging_converter(folder: Path) -> tuple[Path, Path]:
    """A stand-in for soffice that never returns and leaves a child behind (as soffice.bin
    does); it writes that child's pid to the second path returned."""
    pid_file = folder / "converter-child.pid"
    script = folder / "soffice"
    script.write_text(f"#!/bin/sh\nsleep 600 &\necho $! > '{pid_file}'\nwait\n")
    script.chmod(0o755)
    return script, pid_file
