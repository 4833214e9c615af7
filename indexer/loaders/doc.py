"""Word 97–2003 .doc → .docx through LibreOffice headless, then the .docx reader.

Each conversion runs in its own process group with its own user profile folder, and is killed
whole (soffice.bin and its helpers, not only the wrapper script) when it overruns the limit, so
a file that makes LibreOffice hang costs the limit once and cannot block the next conversion.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from indexer.loaders import limits
from indexer.loaders.word import load_docx
from knowledge.document import Document
from knowledge.errors import PlanbotError

INSTALL = "sudo apt-get install libreoffice-writer-nogui"


def converter() -> str | None:
    chosen = limits.active().soffice
    if chosen:
        return shutil.which(chosen)
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
        command = [
            program,
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "docx",
            "--outdir",
            str(folder / "out"),
            str(source),
        ]
        _convert(name, command, limits.active().convert_timeout)
        converted = folder / "out" / "plan.docx"
        if not converted.is_file():
            raise PlanbotError(f"LibreOffice không chuyển được '{name}' sang .docx (tệp .doc hỏng?).")
        document = load_docx(name, converted.read_bytes())
    document.warnings.append(f"'{name}' là tệp Word 97–2003: đã chuyển sang .docx bằng LibreOffice để đọc.")
    return document


def _convert(name: str, command: list[str], timeout: float) -> None:
    """Run the converter in a new process group; past `timeout` seconds kill the whole group.
    Its output goes nowhere: a pipe held open by a stray child would make waiting hang."""
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise PlanbotError(f"Không chạy được LibreOffice để đọc '{name}': {exc.strerror}.") from exc
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise PlanbotError(f"Chuyển đổi '{name}' sang .docx quá lâu (hơn {timeout:g} giây): đã dừng.") from exc
    finally:
        _kill_group(process)


def _kill_group(process: subprocess.Popen) -> None:
    """Kill what is left of the converter's process group (helpers outliving it included)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if process.poll() is None:
        process.wait()
