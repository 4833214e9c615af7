"""Hostile plan files: each is refused in one Vietnamese line, in under 30 s, in under 1 GB,
with the index byte-identical afterwards — through `planbot index` and through the admin's chat
upload (preview, then "Nhập"). Each run is a child process, so its peak memory is measured."""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from indexer.indexing import index_paths
from indexer.loaders import limits, read_plan_bytes
from knowledge.errors import PlanbotError
from store.database import Store
from tests.hostile_files import (
    MB,
    OLE_HEADER,
    entity_bomb_docx,
    flate_bomb_pdf,
    hanging_converter,
    huge_image_pdf,
    huge_page_pdf,
    many_pages_pdf,
    small_docx,
    zip_bomb_docx,
)

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "tests" / "data" / "corpus" / "310-KH-UBND_31786b08.txt"
PLANBOT = Path(sys.executable).parent / "planbot"
SECONDS, PEAK_MB = 30, 1024

# Runs a command and reports its exit code, output, wall time and peak memory (children only).
MEASURE = """
import json, resource, subprocess, sys, time
start = time.monotonic()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=300)
print(json.dumps({"code": done.returncode, "out": done.stdout, "err": done.stderr,
                  "seconds": time.monotonic() - start,
                  "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def measured(command: list[str], env: dict[str, str] | None = None) -> dict:
    child_env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", **(env or {})}
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        capture_output=True,
        text=True,
        env=child_env,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def base_db(tmp_path_factory) -> Path:
    """An index holding one real plan."""
    path = tmp_path_factory.mktemp("hostile") / "planbot.db"
    store = Store(path)
    [report] = index_paths(store, [PLAN])
    store.close()
    assert report.status == "indexed"
    return path


@pytest.fixture
def db(base_db, tmp_path) -> Path:
    target = tmp_path / "planbot.db"
    shutil.copyfile(base_db, target)
    return target


def sparse_text(path: Path) -> None:
    with path.open("wb") as handle:
        handle.truncate(300 * MB)  # 300 MB that take no disk


def long_text(path: Path) -> None:
    line = "- Sở Y tế chủ trì, phối hợp với Sở Nội vụ triển khai nhiệm vụ số {} trong năm.\n"
    path.write_text("KẾ HOẠCH\n" + "".join(line.format(i) for i in range(75_000)), encoding="utf-8")


def written(data: Callable[[], bytes]) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data())


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "bomb.docx": (written(zip_bomb_docx), "giải nén ra quá lớn (1,5 GB"),
    "size-lies.docx": (written(lambda: zip_bomb_docx(declared=100_000)), "hỏng"),
    "laughs-document.docx": (
        written(lambda: entity_bomb_docx("word/document.xml")),
        "DOCTYPE/ENTITY",
    ),
    "laughs-numbering.docx": (
        written(lambda: entity_bomb_docx("word/numbering.xml")),
        "DOCTYPE/ENTITY",
    ),
    "laughs-styles.docx": (written(lambda: entity_bomb_docx("word/styles.xml")), "DOCTYPE/ENTITY"),
    "huge-page.pdf": (written(huge_page_pdf), "khổ quá lớn"),
    "huge-image-scan.pdf": (written(huge_image_pdf), "30000 × 30000 điểm ảnh"),
    "10000-pages.pdf": (written(many_pages_pdf), "quá nhiều trang (hơn 1000"),
    "content-bomb.pdf": (written(flate_bomb_pdf), "giải nén ra quá lớn"),
    "text-not-zip.docx": (written(lambda: "Kế hoạch số 12".encode()), "không phải .docx hợp lệ"),
    "docx-not-pdf.pdf": (written(small_docx), "không phải PDF hợp lệ"),
    "300mb.txt": (sparse_text, "quá lớn (300 MB; tối đa 50 MB)"),
    "long.txt": (long_text, "quá nhiều chữ"),
}


def assert_refused(result: dict, message: str) -> str:
    assert result["code"] == 0, result["err"]
    [report] = [json.loads(line) for line in result["out"].splitlines() if line.startswith("{")]
    assert report["status"] == "failed", report
    error = report["error"]
    assert message in error and "\n" not in error, error
    assert result["seconds"] < SECONDS and result["peak_mb"] < PEAK_MB, result
    return error


@pytest.mark.parametrize("name", list(CASES))
def test_planbot_index_refuses_the_file_quickly_in_bounded_memory_leaving_the_index(
    name, db, tmp_path
):
    make, message = CASES[name]
    path = tmp_path / name
    make(path)
    before = db.read_bytes()
    result = measured([str(PLANBOT), "index", "--db", str(db), "--no-embed", "--json", str(path)])
    assert_refused(result, message)
    assert db.read_bytes() == before


def test_a_doc_that_hangs_the_converter_is_killed_whole_after_the_timeout(db, tmp_path):
    converter, child_pid = hanging_converter(tmp_path)
    path = tmp_path / "hang.doc"
    path.write_bytes(OLE_HEADER + bytes(4096))
    before = db.read_bytes()
    env = {"PLANBOT_SOFFICE": str(converter), "PLANBOT_CONVERT_TIMEOUT": "2"}
    result = measured(
        [str(PLANBOT), "index", "--db", str(db), "--no-embed", "--json", str(path)], env
    )
    assert_refused(result, "quá lâu (hơn 2 giây)")
    assert result["seconds"] < 10
    assert db.read_bytes() == before
    pid = int(child_pid.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    assert not _alive(pid), "the converter's child outlived the timeout"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(") ")[-1].startswith("Z"))


def test_a_text_pdf_carrying_a_huge_image_is_read_without_decoding_it(db, tmp_path):
    """The image is never rendered (the page has a text layer): the text is read, cheaply."""
    path = tmp_path / "text-and-image.pdf"
    path.write_bytes(huge_image_pdf(text_lines=40))
    result = measured([str(PLANBOT), "index", "--db", str(db), "--no-embed", "--json", str(path)])
    [report] = [json.loads(line) for line in result["out"].splitlines() if line.startswith("{")]
    assert report["status"] == "indexed", report
    assert result["seconds"] < SECONDS and result["peak_mb"] < PEAK_MB, result


# The admin's chat upload: the bot's own worker jobs (preview, then import on "Nhập"), after the
# size check the bot makes before downloading; beside them the library call `planbot index` makes.
CHAT = """
import json, sys
from pathlib import Path
from bot.admin import UNCHANGED, _preview_job, _upload_job
from knowledge.telegram_text import esc
from bot.render.messages import upload_problem
from indexer.indexing import index_paths
from store.database import Store
from knowledge.errors import PlanbotError
db = Path(sys.argv[1])
for path in map(Path, sys.argv[2:]):
    said = {}
    problem = upload_problem(path.name, path.stat().st_size, 20 * 2**20)
    if problem:
        said["before download"] = problem
    else:
        data = path.read_bytes()
        for job in (_preview_job, _upload_job):
            try:
                job(db, path.name, data) if job is _preview_job else job(db, path.name, data, None)
                said[job.__name__] = "ACCEPTED"
            except PlanbotError as exc:
                said[job.__name__] = f"❌ {esc(str(exc))} {UNCHANGED}"
        store = Store(db)
        [report] = index_paths(store, [path])
        store.close()
        said["index"] = f"❌ {esc(report.error)} {UNCHANGED}" if report.error else "ACCEPTED"
    print(json.dumps({"file": path.name, "said": said}, ensure_ascii=False))
"""


def test_admin_chat_upload_gives_the_same_one_line_refusal_and_leaves_the_index(db, tmp_path):
    chat_upload_refuses(
        db, tmp_path, ["bomb.docx", "laughs-styles.docx", "huge-image-scan.pdf", "300mb.txt"]
    )


@pytest.mark.slow
def test_admin_chat_upload_refuses_every_hostile_file(db, tmp_path):
    chat_upload_refuses(db, tmp_path, list(CASES))


def chat_upload_refuses(db: Path, tmp_path: Path, names: list[str]) -> None:
    paths = []
    for name in names:
        paths.append(tmp_path / name)
        CASES[name][0](paths[-1])
    before = db.read_bytes()
    result = measured([sys.executable, "-c", CHAT, str(db), *map(str, paths)])
    assert result["code"] == 0, result["err"]
    assert result["peak_mb"] < PEAK_MB, result
    for line in result["out"].splitlines():
        report = json.loads(line)
        said, message = report["said"], CASES[report["file"]][1]
        names.remove(report["file"])
        if "before download" in said:  # larger than the uploads the bot accepts: not downloaded
            assert (
                "quá lớn" in said["before download"]
                and "Chỉ mục không thay đổi" in said["before download"]
            )
            continue
        assert said["_preview_job"] == said["_upload_job"] == said["index"], said
        assert message in html.unescape(said["index"]) and "\n" not in said["index"], said
    assert not names and db.read_bytes() == before


def test_limits_are_settings_with_room_for_real_plans():
    from indexer.settings import load_settings

    default = load_settings(env={}, dotenv=False).limits
    assert default.pages >= 300 and default.file_bytes >= 20 * MB and default.convert_timeout >= 60
    assert default.page_pixels >= 17_500_000  # an A3 page at 300 dpi
    chosen = load_settings(
        env={
            "PLANBOT_MAX_PAGES": "20",
            "PLANBOT_MAX_UNZIPPED_MB": "1",
            "PLANBOT_CONVERT_TIMEOUT": "x",
        },
        dotenv=False,
    ).limits
    assert (chosen.pages, chosen.unzipped_bytes, chosen.convert_timeout) == (
        20,
        MB,
        default.convert_timeout,
    )


@pytest.fixture
def tight():
    limits.use(limits.Limits(pages=3, unzipped_bytes=2 * MB, text_chars=10_000))
    yield
    limits.use(None)


def test_limits_in_force_are_the_ones_used(tight):
    with pytest.raises(PlanbotError, match="hơn 3 trang"):
        read_plan_bytes("bon-trang.pdf", many_pages_pdf(4))
    with pytest.raises(PlanbotError, match="giải nén ra quá lớn"):
        read_plan_bytes("lon.docx", zip_bomb_docx(3 * MB))
    with pytest.raises(PlanbotError, match="quá nhiều chữ"):
        read_plan_bytes("dai.docx", small_docx("Nhiệm vụ " * 2000))
    limits.use(limits.Limits(stream_bytes=MB))
    with pytest.raises(PlanbotError, match="giải nén ra quá lớn"):
        read_plan_bytes("noi-dung.pdf", flate_bomb_pdf(3 * MB))


def test_a_real_plan_still_loads_within_the_limits():
    document = read_plan_bytes("ba-trang.pdf", many_pages_pdf(3))
    assert document.pages == 3
    assert read_plan_bytes("nho.docx", small_docx()).paragraphs


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_a_conversion_killed_at_the_timeout_leaves_no_libreoffice_behind_and_the_next_one_works():
    doc = ROOT / "tests" / "data" / "formats" / "real_trien-khai-cong-dien-131.doc"
    before = _soffice_pids()
    limits.use(limits.Limits(convert_timeout=0.5))  # LibreOffice is still starting: killed
    try:
        with pytest.raises(PlanbotError, match="quá lâu"):
            read_plan_bytes("cham.doc", doc.read_bytes())
    finally:
        limits.use(None)
    deadline = time.monotonic() + 5  # SIGKILLed processes take a moment to be gone
    while time.monotonic() < deadline and not _soffice_pids() <= before:
        time.sleep(0.1)
    assert _soffice_pids() <= before  # soffice.bin went with its wrapper
    document = read_plan_bytes("tiep.doc", doc.read_bytes())
    assert any("thủ tục hành chính" in p.text for p in document.paragraphs)


def _soffice_pids() -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/comm"):
        try:
            if stat.read_text().strip().startswith("soffice") and _alive(int(stat.parent.name)):
                found.add(int(stat.parent.name))
        except OSError:
            continue
    return found
