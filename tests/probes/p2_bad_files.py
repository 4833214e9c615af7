#!/usr/bin/env python3
"""Probe 2: bad files through `planbot index`, then kill -9 during indexing.

usage: p2_bad_files.py PROJECT_DIR [--work /tmp/probes/p2] [--kills 8] [--skip-big] [--embed]

PROJECT_DIR must hold a set-up checkout (.venv/bin/planbot, .venv/bin/python with python-docx,
sample_plans/). Everything is written under --work. Part A: a database with the sample plans
is indexed once (--no-embed unless --embed); then, for each bad input, a copy of that database
is indexed with the input and we record the exit code, the message, whether a Python traceback
was printed, and whether the database is unchanged (sha256 of the main db file, of a logical
SQL dump, and of `planbot plans --json` + `planbot tasks --json`). Part B: a large folder
(copies of the sample plans, each made unique) is indexed with --force and the process is
SIGKILLed at random moments; after each kill the database must open (`PRAGMA
integrity_check`), and every plan must be either the old version or the new one, never half
(its item/section/deadline counts equal the counts of one of the two full versions).
Writes --work/p2_result.json; prints a table. Exit 1 if anything failed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import unicodedata
import zipfile
from pathlib import Path

ap = argparse.ArgumentParser()
ap.add_argument("project")
ap.add_argument("--work", default="/tmp/probes/p2")
ap.add_argument("--kills", type=int, default=8)
ap.add_argument("--skip-big", action="store_true", help="skip the 50 MB file")
ap.add_argument("--embed", action="store_true", help="index with embeddings (slow on CPU)")
ap.add_argument("--timeout", type=int, default=600)
ap.add_argument("--seed", type=int, default=7)
args = ap.parse_args()

PROJECT = Path(args.project).resolve()
PLANBOT = str(PROJECT / ".venv" / "bin" / "planbot")
PY = str(PROJECT / ".venv" / "bin" / "python")
SAMPLES = sorted((PROJECT / "sample_plans").glob("*.txt"))
WORK = Path(args.work)
if WORK.exists():
    shutil.rmtree(WORK)
WORK.mkdir(parents=True)
FILES = WORK / "files"
FILES.mkdir()
rng = random.Random(args.seed)
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
EMBED = [] if args.embed else ["--no-embed"]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def run(cmd: list[str], timeout: int | None = None, **kw) -> tuple[int, str, str, float]:
    t0 = time.perf_counter()
    p = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, start_new_session=True, **kw
    )
    try:
        out_b, err_b = p.communicate(timeout=timeout or args.timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)  # the whole group: /usr/bin/time and planbot under it
        out_b, err_b = p.communicate()
        rc = "timeout"
    return (
        rc,
        out_b.decode("utf-8", "replace"),
        err_b.decode("utf-8", "replace"),
        time.perf_counter() - t0,
    )


def dump_sha(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        h = hashlib.sha256()
        for line in conn.iterdump():
            h.update(line.encode("utf-8", "surrogatepass"))
        return h.hexdigest()[:16]
    finally:
        conn.close()


def state(db: Path) -> dict:
    s = {"db_file": sha(db.read_bytes()) if db.exists() else None}
    wal = Path(str(db) + "-wal")
    s["wal_bytes"] = wal.stat().st_size if wal.exists() else 0
    s["dump"] = dump_sha(db) if db.exists() else None
    rc1, plans, e1, _ = run([PLANBOT, "plans", "--db", str(db), "--json"])
    rc2, tasks, e2, _ = run([PLANBOT, "tasks", "--db", str(db), "--json"])
    s["plans_tasks_json"] = (
        sha((plans + tasks).encode())
        if rc1 == 0 and rc2 == 0
        else f"rc={rc1},{rc2}: {e1[-200:]}{e2[-200:]}"
    )
    return s


# --------------------------------------------------------------------------------------------
# Inputs
plan_text = SAMPLES[-1].read_text(encoding="utf-8")  # 004: has a task table


def write(name: str, data: bytes) -> Path:
    p = FILES / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def cp1258_bytes(text: str) -> bytes:
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        d = unicodedata.normalize("NFD", ch)
        base, marks = d[0], list(d[1:])
        for i, m in enumerate(marks):  # compose the vowel mark (â ê ô ơ ư ă) when cp1258 has it
            composed = unicodedata.normalize("NFC", base + m)
            try:
                composed.encode("cp1258")
                base = composed
                marks.pop(i)
                break
            except UnicodeEncodeError:
                continue
        out += base.encode("cp1258", "replace") + "".join(marks).encode("cp1258", "replace")
    return bytes(out)


TCVN3 = dict(
    zip(
        "àảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵăâêôơưđĂÂÊÔƠƯĐ",
        bytes(
            [
                0xB5,
                0xB6,
                0xB7,
                0xB8,
                0xB9,
                0xBB,
                0xBC,
                0xBD,
                0xBE,
                0xC6,
                0xC7,
                0xC8,
                0xC9,
                0xCA,
                0xCB,
                0xCC,
                0xCE,
                0xCF,
                0xD0,
                0xD1,
                0xD2,
                0xD3,
                0xD4,
                0xD5,
                0xD6,
                0xD7,
                0xD8,
                0xDC,
                0xDD,
                0xDE,
                0xDF,
                0xE1,
                0xE2,
                0xE3,
                0xE4,
                0xE5,
                0xE6,
                0xE7,
                0xE8,
                0xE9,
                0xEA,
                0xEB,
                0xEC,
                0xED,
                0xEE,
                0xEF,
                0xF1,
                0xF2,
                0xF3,
                0xF4,
                0xF5,
                0xF6,
                0xF7,
                0xF8,
                0xF9,
                0xFA,
                0xFB,
                0xFC,
                0xFD,
                0xFE,
                0xA8,
                0xA9,
                0xAA,
                0xAB,
                0xAC,
                0xAD,
                0xAE,
                0xA1,
                0xA2,
                0xA3,
                0xA4,
                0xA5,
                0xA6,
                0xA7,
            ]
        ),
        strict=True,
    )
)


def tcvn3_bytes(text: str) -> bytes:
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        low = ch.lower()
        if ch in TCVN3:
            out.append(TCVN3[ch])
        elif low in TCVN3:  # TCVN3 upper-case toned letters share the codes (other font)
            out.append(TCVN3[low])
        else:
            out += ch.encode("ascii", "replace")
    return bytes(out)


def latin1_bytes(text: str) -> bytes:
    # What a Vietnamese text becomes when saved as Latin-1 with "best fit": keep the letters
    # Latin-1 has (à á â ã è é ê ì í ò ó ô õ ù ú ý), drop the other marks.
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("latin-1")
        except UnicodeEncodeError:
            base = "".join(
                c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c)
            )
            out += (
                unicodedata.normalize("NFC", base)
                .replace("đ", "d")
                .replace("Đ", "D")
                .encode("latin-1", "replace")
            )
    return bytes(out)


def minimal_pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def image_only_pdf() -> bytes:
    w = h = 64
    pixels = bytes(rng.randrange(256) for _ in range(w * h))
    content = b"q 500 0 0 700 50 50 cm /Im1 Do Q"
    return minimal_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>",
            f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream",
            f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {len(pixels)} >>\nstream\n".encode()
            + pixels
            + b"\nendstream",
        ]
    )


def text_pdf() -> bytes:
    content = b"BT /F1 12 Tf 50 800 Td (KE HOACH) Tj 0 -20 Td (I. MUC DICH) Tj 0 -20 Td (1. So Noi vu chu tri, hoan thanh truoc ngay 01/7/2025.) Tj ET"
    return minimal_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
            f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def zip_bytes() -> bytes:
    p = WORK / "tmp.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("hello.txt", "xin chào")
        z.writestr("word/document.xml", "<not really/>")
    return p.read_bytes()


def make_docx_nested(path: Path) -> None:
    code = r"""
import sys, docx
d = docx.Document()
for p in ["UBND TỈNH THỬ", "KẾ HOẠCH", "Thử bảng lồng nhau", "I. NHIỆM VỤ", "1. Sở Nội vụ chủ trì rà soát, hoàn thành trước ngày 01/7/2025."]:
    d.add_paragraph(p)
t = d.add_table(rows=3, cols=5)
for i, h in enumerate(["TT", "Nội dung nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"]):
    t.cell(0, i).text = h
t.cell(1, 0).text = "1"; t.cell(1, 1).text = "Xây dựng đề án"; t.cell(1, 2).text = "Sở Nội vụ"; t.cell(1, 3).text = "Sở Tài chính"; t.cell(1, 4).text = "Quý IV năm 2025"
inner = t.cell(2, 1).add_table(rows=2, cols=3)
inner.cell(0, 0).text = "lồng"; inner.cell(0, 1).text = "Sở Y tế"; inner.cell(1, 2).text = "Trước 31/12/2025"
deeper = inner.cell(1, 0).add_table(rows=1, cols=2)
deeper.cell(0, 0).text = "lồng cấp 2"; deeper.cell(0, 1).text = "Hàng năm"
t.cell(2, 0).text = "2"; t.cell(2, 2).text = "Sở Tài chính"
a, b = t.cell(1, 3), t.cell(2, 4)
a.merge(b)  # a merged block spanning rows and columns
d.add_paragraph("Trên đây là Kế hoạch.")
d.save(sys.argv[1])
"""
    subprocess.run([PY, "-c", code, str(path)], check=True)


def make_docx_plain(path: Path, text: str) -> None:
    code = r"""
import sys, docx
d = docx.Document()
for line in open(sys.argv[2], encoding="utf-8").read().split("\n"):
    d.add_paragraph(line)
d.save(sys.argv[1])
"""
    tmp = WORK / "docx_src.txt"
    tmp.write_text(text, encoding="utf-8")
    subprocess.run([PY, "-c", code, str(path), str(tmp)], check=True)


cases: list[tuple[str, list[str]]] = []  # (label, paths)


def case(label: str, *paths: Path | str) -> None:
    cases.append((label, [str(p) for p in paths]))


case("empty .txt", write("empty.txt", b""))
case("whitespace-only .txt", write("spaces.txt", b"  \n\t\n \r\n   \n"))
case("random bytes .txt", write("random.txt", bytes(rng.randrange(256) for _ in range(20000))))
case(
    "random bytes .txt (no NUL)",
    write("random_nonul.txt", bytes(rng.randrange(1, 256) for _ in range(20000))),
)
case("PNG named .png", write("image.png", PNG))
case("PNG renamed .txt", write("image_png.txt", PNG))
case("PNG renamed .pdf", write("image_png.pdf", PNG))
case("PNG renamed .docx", write("image_png.docx", PNG))
case("zip renamed .docx", write("archive.docx", zip_bytes()))
case("Windows-1258 Vietnamese plan", write("plan_cp1258.txt", cp1258_bytes(plan_text)))
case("TCVN3 (ABC) Vietnamese plan", write("plan_tcvn3.txt", tcvn3_bytes(plan_text)))
case("UTF-16 LE with BOM plan", write("plan_utf16.txt", plan_text.encode("utf-16")))
case(
    "UTF-16 BE with BOM plan",
    write("plan_utf16be.txt", b"\xfe\xff" + plan_text.encode("utf-16-be")),
)
case("UTF-16 without BOM", write("plan_utf16_nobom.txt", plan_text.encode("utf-16-le")))
case(
    "UTF-16 BOM + odd byte count", write("plan_utf16_odd.txt", plan_text.encode("utf-16") + b"\x0a")
)
case(
    "UTF-16 BOM + lone surrogate",
    write(
        "plan_utf16_surrogate.txt",
        b"\xff\xfe" + "I. A\n".encode("utf-16-le") + b"\x00\xd8" + "1. B".encode("utf-16-le"),
    ),
)
case("Latin-1 'best fit' Vietnamese plan", write("plan_latin1.txt", latin1_bytes(plan_text)))
case(
    "UTF-8 with invalid byte in the middle",
    write(
        "plan_badbyte.txt",
        plan_text.encode("utf-8")[:5000] + b"\xff" + plan_text.encode("utf-8")[5000:],
    ),
)
case("PDF with only an image (no text layer)", write("scan.pdf", image_only_pdf()))
case(
    "PDF blank page",
    write(
        "blank.pdf",
        minimal_pdf(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
            ]
        ),
    ),
)
good_pdf = text_pdf()
case("PDF truncated (corrupt)", write("truncated.pdf", good_pdf[: len(good_pdf) // 2]))
case(
    "PDF header + random bytes",
    write("garbage.pdf", b"%PDF-1.7\n" + bytes(rng.randrange(256) for _ in range(5000))),
)
case(
    "PDF with bad xref and loop",
    write(
        "loop.pdf",
        minimal_pdf(
            [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"]
        ),
    ),
)
case("PDF with a text layer (control: small plan)", write("text.pdf", good_pdf))
nested = FILES / "nested_tables.docx"
make_docx_nested(nested)
case("DOCX with nested tables and merged cells", nested)
docx_plain = FILES / "plan_as_docx.docx"
make_docx_plain(docx_plain, SAMPLES[0].read_text(encoding="utf-8"))
case("DOCX of a sample plan (control)", docx_plain)
case(
    "name with spaces and unicode",
    write("Kế hoạch số 12 (bản cuối) — đã ký.txt", SAMPLES[1].read_bytes()),
)
nfd_name = unicodedata.normalize("NFD", "Kế hoạch thử.txt")
case("NFC name", write("Kế hoạch thử.txt", SAMPLES[2].read_bytes()))
case(
    "same file under an NFD name (duplicates the NFC one?)",
    write(nfd_name, SAMPLES[2].read_bytes()),
)
loopdir = FILES / "loopdir"
loopdir.mkdir()
shutil.copy(SAMPLES[3], loopdir / "plan.txt")
os.symlink(".", loopdir / "self")
os.symlink("..", loopdir / "parent")
os.symlink("b.txt", loopdir / "a.txt")
os.symlink("a.txt", loopdir / "b.txt")
os.symlink("missing.txt", loopdir / "dangling.txt")
os.symlink("/dev/zero", loopdir / "zero.txt")
case("folder with symlink loops (dir + file), dangling link, link to /dev/zero", loopdir)
case("path that does not exist", FILES / "no_such_plan.txt")
case("unsupported suffix .rtf", write("plan.rtf", SAMPLES[0].read_bytes()))
case("folder with no plan files", (FILES / "emptydir").mkdir() or FILES / "emptydir")
case("same name as an indexed plan, now empty", write("same/" + SAMPLES[0].name, b""))
case(
    "same name as an indexed plan, now without structure",
    write("same2/" + SAMPLES[0].name, "Chỉ một dòng chữ không có mục nào\n".encode()),
)
case("same name as an indexed plan, now binary", write("same3/" + SAMPLES[0].name, PNG))
case("good plan + bad file in one call", SAMPLES[0], FILES / "random.txt")
fifo = FILES / "pipe.txt"
os.mkfifo(fifo)
case("named pipe (FIFO) .txt passed directly", fifo)
case("/dev/zero passed directly", "/dev/zero")
if not args.skip_big:
    big = FILES / "big_50mb.txt"
    chunk = "\n\n".join(p.read_text(encoding="utf-8") for p in SAMPLES)
    with big.open("w", encoding="utf-8") as f:
        n = 0
        while f.tell() < 50 * 1024 * 1024:
            f.write(chunk.replace("Sở Nội vụ", f"Sở Nội vụ {n}", 1) + "\n\n")
            n += 1
    case("50 MB text file", big)

# --------------------------------------------------------------------------------------------
# Part A
base = WORK / "base.db"
rc, out, err, secs = run(
    [PLANBOT, "index", "--db", str(base), *EMBED, *map(str, SAMPLES)], timeout=1800
)
assert rc == 0, (rc, out, err)
base_state = state(base)
results = []
print(f"{'case':<62} {'rc':>7} {'secs':>6} {'trace':>5} {'db same':>8}  message")
for label, paths in cases:
    db = WORK / "case.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    shutil.copy(base, db)
    before = state(db)
    cmd = [PLANBOT, "index", "--db", str(db), *EMBED, *paths]
    timeout = 120 if ("FIFO" in label or "/dev/zero" in label) else args.timeout
    # /dev/zero: cap the address space so a runaway read fails instead of eating the machine
    pre = ["prlimit", "--as=4000000000", "--"] if "/dev/zero" in label else []
    rc, out, err, secs = run(pre + ["/usr/bin/time", "-f", "MAXRSS_KB=%M", *cmd], timeout=timeout)
    rss = next(
        (line.split("=")[1] for line in err.splitlines() if line.startswith("MAXRSS_KB=")), None
    )
    err = "\n".join(
        line
        for line in err.splitlines()
        if not line.startswith(
            ("MAXRSS_KB=", "Command exited with non-zero status", "Command terminated by signal")
        )
    )
    after = state(db)
    same_logical = (
        before["dump"] == after["dump"] and before["plans_tasks_json"] == after["plans_tasks_json"]
    )
    same_file = before["db_file"] == after["db_file"]
    traceback_shown = (
        "Traceback (most recent call last)" in err or "Traceback (most recent call last)" in out
    )
    message = (
        (err.strip().splitlines() or [""])[-1]
        if rc not in (0,)
        else (out.strip().splitlines() or [""])[-1]
    )
    if traceback_shown:
        message = (err.strip().splitlines() or [""])[-1]
    expected_change = rc == 0
    r = {
        "case": label,
        "paths": paths,
        "rc": rc,
        "seconds": round(secs, 2),
        "max_rss_kb": rss,
        "traceback": traceback_shown,
        "db_file_same": same_file,
        "logical_same": same_logical,
        "message": message[:400],
        "stdout_tail": out[-1500:],
        "stderr_tail": err[-3000:],
        "before": before,
        "after": after,
    }
    # A case fails when: a traceback reaches the user, the run hangs/times out, or a failed
    # run (rc != 0) changed the index.
    r["failed"] = (
        traceback_shown
        or rc == "timeout"
        or (rc != 0 and not same_logical)
        or (rc not in (0, 1, 2))
    )
    results.append(r)
    print(
        f"{label[:62]:<62} {rc!s:>7} {secs:>6.1f} {str(traceback_shown)[0]:>5} {('yes' if same_logical else 'NO') + ('' if same_file else '*'):>8}  {message[:110]}"
    )

# --------------------------------------------------------------------------------------------
# Part B: kill -9 while indexing a large folder. Two versions of the same files (A, B: B has
# one more clause in each plan); each run indexes the other version with --force and is killed
# at a random moment. Every plan must then equal the full A or the full B version.
COPIES = 40


def make_folder(folder: Path, extra: bool) -> None:
    folder.mkdir()
    for i in range(COPIES):
        for s in SAMPLES:
            text = s.read_text(encoding="utf-8")
            if extra:
                lines = text.split("\n")
                at = next(
                    (j for j, line in enumerate(lines) if line.lstrip("#* ").startswith("II.")), 5
                )
                lines.insert(
                    at + 1,
                    "\n- Sở Nội vụ chủ trì rà soát bổ sung, hoàn thành trước ngày 01/7/2025.\n",
                )
                text = "\n".join(lines)
            (folder / f"{i:03d}_{s.name}").write_text(
                text + f"\n\nGhi chú bản {i}.\n", encoding="utf-8"
            )


def plan_counts(db: Path) -> dict[str, tuple]:
    conn = sqlite3.connect(str(db), timeout=30)
    try:
        q = lambda sql: dict(conn.execute(sql).fetchall())  # noqa: E731
        files = dict(conn.execute("SELECT id, file FROM plans").fetchall())
        items = q("SELECT plan_id, count(*) FROM items GROUP BY plan_id")
        secs = q("SELECT plan_id, count(*) FROM sections GROUP BY plan_id")
        dls = q("SELECT plan_id, count(*) FROM deadlines GROUP BY plan_id")
        asg = q("SELECT plan_id, count(*) FROM assignments GROUP BY plan_id")
        rules = q("SELECT plan_id, count(*) FROM reporting_rules GROUP BY plan_id")
        hashes = q("SELECT id, content_hash FROM plans")
        out = {
            files[pid]: (
                items.get(pid, 0),
                secs.get(pid, 0),
                dls.get(pid, 0),
                asg.get(pid, 0),
                rules.get(pid, 0),
                hashes[pid],
            )
            for pid in files
        }
        fts = conn.execute("SELECT count(*) FROM items_fts").fetchone()[0]
        nitems = conn.execute("SELECT count(*) FROM items").fetchone()[0]
        out["__fts_vs_items__"] = (fts, nitems)
        out["__orphans__"] = (
            conn.execute(
                "SELECT count(*) FROM items WHERE plan_id NOT IN (SELECT id FROM plans)"
            ).fetchone()[0],
        )
        return out
    finally:
        conn.close()


dir_a, dir_b = WORK / "big_a", WORK / "big_b"
make_folder(dir_a, extra=False)
make_folder(dir_b, extra=True)
full = {}
for tag, folder in (("A", dir_a), ("B", dir_b)):
    db = WORK / f"full_{tag}.db"
    rc, out, err, secs = run(
        [PLANBOT, "index", "--db", str(db), "--no-embed", str(folder)], timeout=1800
    )
    assert rc == 0, err
    full[tag] = plan_counts(db)
    print(f"full index of version {tag}: {len(full[tag]) - 2} plans in {secs:.1f} s")
force_secs = secs
kdb = WORK / "kill.db"
shutil.copy(WORK / "full_A.db", kdb)
kill_results = []
for k in range(args.kills):
    folder = dir_b if k % 2 == 0 else dir_a
    when = rng.uniform(0.5, max(1.0, force_secs * 1.1))
    p = subprocess.Popen(
        [PLANBOT, "index", "--db", str(kdb), "--no-embed", "--force", str(folder)],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(when)
    killed = p.poll() is None
    if killed:
        p.send_signal(signal.SIGKILL)
    p.wait()
    try:
        conn = sqlite3.connect(str(kdb), timeout=30)
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        conn.close()
        counts = plan_counts(kdb)
        plans_now = [f for f in counts if not f.startswith("__")]
        half = [f for f in plans_now if counts[f] not in (full["A"].get(f), full["B"].get(f))]
        n_b = sum(1 for f in plans_now if counts[f] == full["B"].get(f))
        fts_ok = counts["__fts_vs_items__"][0] == counts["__fts_vs_items__"][1]
        orphans = counts["__orphans__"][0]
        missing = [f for f in full["A"] if not f.startswith("__") and f not in counts]
    except Exception as exc:  # noqa: BLE001
        integrity, half, fts_ok, orphans, missing, n_b = f"error: {exc}", ["?"], False, -1, [], -1
    rc2, _, err2, _ = run([PLANBOT, "plans", "--db", str(kdb), "--json"])
    ok = integrity == "ok" and not half and fts_ok and orphans == 0 and not missing and rc2 == 0
    kill_results.append(
        {
            "target": folder.name,
            "at_seconds": round(when, 2),
            "killed": killed,
            "integrity": integrity,
            "plans_now_version_B": n_b,
            "half_written_plans": half[:5],
            "fts_rows_match_items": fts_ok,
            "orphan_items": orphans,
            "missing_plans": missing[:5],
            "plans_cli_rc": rc2,
            "ok": ok,
        }
    )
    print(
        f"kill {k + 1}/{args.kills} -> {folder.name} at {when:.2f}s (killed={killed}): integrity={integrity} "
        f"B-version plans={n_b} half={len(half)} fts_ok={fts_ok} orphans={orphans} plans_rc={rc2} -> {'ok' if ok else 'FAIL'}"
    )

summary = {
    "part_a": {"tried": len(results), "failed": sum(r["failed"] for r in results)},
    "part_b": {
        "tried": len(kill_results),
        "failed": sum(not r["ok"] for r in kill_results),
        "force_reindex_seconds": round(force_secs, 2),
        "plans": len(full["A"]) - 2,
    },
    "cases": results,
    "kills": kill_results,
}
(WORK / "p2_result.json").write_text(
    json.dumps(summary, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
)
print(json.dumps({k: summary[k] for k in ("part_a", "part_b")}, ensure_ascii=False))
sys.exit(1 if summary["part_a"]["failed"] or summary["part_b"]["failed"] else 0)
