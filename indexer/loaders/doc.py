"""Word 97–2003 .doc → .docx through LibreOffice headless, then the .docx reader."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from indexer.loaders.word import load_docx
from knowledge.document import Document
from knowledge.errors import PlanbotError

TIMEOUT = 120  # seconds
INSTALL = "sudo apt-get install libreoffice-writer-nogui"


def converter() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def load_doc(name: str, data: bytes) -> Document:
    if not data.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2 compound file
        if data.startswith(b"PK\x03\x04"):
            return load_docx(name, data)  # a .docx under a .doc name
        raise PlanbotError(f"Tệp '{name}' không phải tệp Word .doc hợp lệ.")
    program = converter()
    if program is None:
        raise PlanbotError(
            f"Không đọc được '{name}': tệp Word 97–2003 (.doc) cần LibreOffice để chuyển đổi. "
            f"Hãy cài: {INSTALL} (hoặc lưu lại tệp dưới dạng .docx)."
        )
    with tempfile.TemporaryDirectory(prefix="planbot-doc-") as tmp:
        folder = Path(tmp)
        source = folder / "plan.doc"
        source.write_bytes(data)
        try:
            subprocess.run(
                [
                    program,
                    f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                    "--headless",
                    "--norestore",
                    "--convert-to",
                    "docx",
                    "--outdir",
                    str(folder / "out"),
                    str(source),
                ],
                capture_output=True,
                timeout=TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise PlanbotError(f"Chuyển đổi '{name}' sang .docx quá lâu (hơn {TIMEOUT} giây).") from exc
        except OSError as exc:
            raise PlanbotError(f"Không chạy được LibreOffice để đọc '{name}': {exc.strerror}.") from exc
        converted = folder / "out" / "plan.docx"
        if not converted.is_file():
            raise PlanbotError(f"LibreOffice không chuyển được '{name}' sang .docx (tệp .doc hỏng?).")
        document = load_docx(name, converted.read_bytes())
    document.warnings.append(f"'{name}' là tệp Word 97–2003: đã chuyển sang .docx bằng LibreOffice để đọc.")
    return document
