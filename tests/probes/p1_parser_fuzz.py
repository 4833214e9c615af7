#!/usr/bin/env python3
"""Probe 1: fuzz the pure parser (knowledge.parsing.parser.parse_plan) and the deadline grammar
(knowledge.dates.deadlines.parse_deadline / find_deadline) with plan-like texts.

usage: p1_parser_fuzz.py PROJECT_DIR [--n 10000] [--seed 1] [--hyp 2000] [--out DIR]

Run it with a Python that has `hypothesis` and sees PROJECT_DIR's dependencies, e.g.
    PYTHONPATH=$P:$P/.venv/lib/python3.11/site-packages /tmp/probes/venv/bin/python p1_parser_fuzz.py $P

Counts, per entry point: cases tried, exceptions other than knowledge.errors.PlanbotError,
cases slower than --slow seconds (reported separately), and the first distinct tracebacks
(distinct = exception type + innermost project frame). Writes DIR/p1_result.json and the
failing inputs (DIR/p1_fail_*.txt).
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import time
import traceback
import unicodedata
from pathlib import Path

ap = argparse.ArgumentParser()
ap.add_argument("project")
ap.add_argument("--n", type=int, default=10000, help="generated plan texts")
ap.add_argument("--dn", type=int, default=20000, help="generated deadline cells/sentences")
ap.add_argument(
    "--hyp", type=int, default=2000, help="extra hypothesis examples per entry point (0: skip)"
)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--slow", type=float, default=5.0, help="seconds above which a case counts as slow")
ap.add_argument(
    "--timeout", type=int, default=20, help="seconds after which a case is abandoned (hang)"
)
ap.add_argument("--out", default="/tmp/probes/p1")
args = ap.parse_args()

project = Path(args.project).resolve()
sys.path.insert(0, str(project))
from knowledge.dates.deadlines import find_deadline, parse_deadline  # noqa: E402
from knowledge.errors import PlanbotError  # noqa: E402
from knowledge.parsing.parser import parse_plan  # noqa: E402

out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
rng = random.Random(args.seed)

SAMPLES = sorted((project / "sample_plans").glob("*.txt"))
EXTRA = sorted((project / "tests" / "data").glob("*.txt"))
CORPUS = [p.read_text(encoding="utf-8") for p in SAMPLES + EXTRA]
LINES = [line for text in CORPUS for line in text.split("\n")]
TABLE_LINES = [line for line in LINES if "\t" in line]
CELLS = sorted({c.strip() for line in TABLE_LINES for c in line.split("\t") if c.strip()})
PARAS = [p for text in CORPUS for p in text.split("\n\n") if p.strip()]

NOISE_CHARS = [chr(c) for c in range(0, 32) if c not in (9, 10)] + [
    "\x7f",
    "\x85",
    "\u2028",
    "\u2029",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u202e",
    "\u2066",
    "\ufeff",
    "\ufffd",
    "\u00a0",
    "\u3000",
    "\u0301",
    "\u0300",
    "\u0323",
    "\u0309",
    "\u0303",
    "\u0306",
    "\u0302",
    "\u031b",
    "İ",
    "ß",
    "ﬁ",
    "Ǆ",
    "ᾈ",
    "\U0001f600",
    "\U0001f1fb\U0001f1f3",
    "한",
    "中",
    "ع",
    "א",
    "\t",
    "\r",
    "\r\n",
    "*",
    "**",
    "#",
    "$",
    "\\",
    "_{",
    "}",
    "|",
    "(",
    ")",
    ":",
    ".",
    "/",
    "-",
    "–",
    "•",
    "+",
]


def unicode_noise(n: int) -> str:
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.6:
            out.append(rng.choice(NOISE_CHARS))
        else:
            cp = rng.randrange(0x20, 0x2FFFF)
            if 0xD800 <= cp <= 0xDFFF:  # lone surrogates cannot come out of a decoded file
                cp = 0xFFFD
            out.append(chr(cp))
    return "".join(out)


def nfd_mix(text: str) -> str:
    words = text.split(" ")
    return " ".join(unicodedata.normalize("NFD", w) if rng.random() < 0.5 else w for w in words)


def random_row() -> str:
    ncols = rng.choice([1, 2, 3, 4, 5, 6, 7, 9, 15, 40])
    cells = []
    for _ in range(ncols):
        r = rng.random()
        if r < 0.25:
            cells.append("")
        elif r < 0.7:
            cells.append(rng.choice(CELLS))
        elif r < 0.8:
            cells.append(str(rng.randint(0, 999)) + rng.choice(["", ".", ")", ".1", ".1.2"]))
        elif r < 0.9:
            cells.append(unicode_noise(rng.randint(1, 20)))
        else:
            cells.append(
                rng.choice(
                    [
                        "I",
                        "II",
                        "A",
                        "a)",
                        "-",
                        "+",
                        "TT",
                        "STT",
                        "Nội dung",
                        "Chủ trì",
                        "Phối hợp",
                        "Thời gian hoàn thành",
                        "Ghi chú",
                    ]
                )
            )
    return "\t".join(cells)


def deep_numbering() -> str:
    depth = rng.randint(2, 60)
    label = ".".join(str(rng.randint(0, 99)) for _ in range(depth))
    return f"{label}. {rng.choice(LINES) or 'Nội dung'}"


HEADINGS = [
    "I. MỤC ĐÍCH, YÊU CẦU",
    "II. NHIỆM VỤ",
    "III. TỔ CHỨC THỰC HIỆN",
    "1. Sở Nội vụ:",
    "a) Chủ trì",
    "- Báo cáo định kỳ hằng tháng trước ngày 10 của tháng kế tiếp",
    "PHỤ LỤC I",
    "Nơi nhận:",
    "TM. ỦY BAN NHÂN DÂN",
    "KẾ HOẠCH",
    "Trên đây là Kế hoạch",
    "STT\tNội dung nhiệm vụ\tCơ quan chủ trì\tCơ quan phối hợp\tThời gian hoàn thành",
]


def mutate(text: str) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(14)
        if op == 0 and len(lines) > 1:
            rng.shuffle(lines)
        elif op == 1 and lines:
            lines = lines[: rng.randrange(len(lines) + 1)]
        elif op == 2:
            for _ in range(rng.randint(1, 30)):
                lines.insert(rng.randrange(len(lines) + 1), random_row())
        elif op == 3:
            for _ in range(rng.randint(1, 20)):
                lines.insert(rng.randrange(len(lines) + 1), rng.choice(HEADINGS))
        elif op == 4 and lines:  # unicode noise inside lines
            for _ in range(rng.randint(1, 20)):
                i = rng.randrange(len(lines))
                at = rng.randrange(len(lines[i]) + 1)
                lines[i] = lines[i][:at] + unicode_noise(rng.randint(1, 8)) + lines[i][at:]
        elif op == 5:  # huge line
            # Prose repeated (agency mentions: the slow path) up to 30k chars; noise up to 200k.
            if rng.random() < 0.7:
                size = rng.choice([5_000, 10_000, 30_000])
                base = rng.choice(LINES) or "Sở Nội vụ chủ trì"
                huge = (base + " ") * (size // max(len(base), 1) + 1)
            else:
                size = rng.choice([50_000, 200_000])
                huge = unicode_noise(size // 10) * 10
            lines.insert(rng.randrange(len(lines) + 1), huge[:size])
        elif op == 6:
            for _ in range(rng.randint(1, 10)):
                lines.insert(rng.randrange(len(lines) + 1), deep_numbering())
        elif op == 7:
            lines = [nfd_mix(line) for line in lines]
        elif op == 8:  # tabs everywhere
            lines = [line.replace(" ", "\t") if rng.random() < 0.1 else line for line in lines]
        elif op == 9:  # empty lines / whitespace only
            for _ in range(rng.randint(1, 30)):
                lines.insert(
                    rng.randrange(len(lines) + 1),
                    rng.choice(["", " ", "\t", "\t\t\t", "\u00a0", "\u3000"]),
                )
        elif op == 10 and lines:  # cut a line mid-character sequence
            i = rng.randrange(len(lines))
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
        elif op == 11:  # markdown
            lines = [
                rng.choice(["# ", "## ", "**", "* ", "$\\geq$ ", "_{x}", "***"]) + line
                if rng.random() < 0.2
                else line
                for line in lines
            ]
        elif op == 12:  # control chars / CR line ends
            lines = [
                line + rng.choice(["\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", ""])
                for line in lines
            ]
        elif op == 13:  # repeated many times (big file)
            lines = lines * rng.randint(2, 8)
    return "\n".join(lines)


def gen_plan(i: int) -> str:
    kind = i % 10
    if kind == 0:
        return mutate(rng.choice(CORPUS))
    if kind == 1:
        return mutate("\n\n".join(rng.sample(PARAS, min(len(PARAS), rng.randint(1, 40)))))
    if kind == 2:
        return "\n".join(random_row() for _ in range(rng.randint(1, 60)))
    if kind == 3:
        return unicode_noise(rng.randint(0, 400))
    if kind == 4:
        return "\n".join(
            rng.choice(HEADINGS + [deep_numbering(), random_row()])
            for _ in range(rng.randint(1, 80))
        )
    if kind == 5:
        t = rng.choice(CORPUS)
        return t[: rng.randrange(len(t) + 1)]
    if kind == 6:
        return nfd_mix(mutate(rng.choice(CORPUS)))
    if kind == 7:
        return rng.choice(
            [
                "",
                " ",
                "\n",
                "\t",
                "\n\n\n",
                "\ufeff",
                "\r\n",
                "\x00",
                "I.",
                "1.",
                "a)",
                "-",
                "\t\t",
                "I. ",
                "KẾ HOẠCH",
                "PHỤ LỤC",
            ]
        ) * rng.randint(1, 50)
    if kind == 8:
        return mutate("\n".join(rng.sample(LINES, min(len(LINES), rng.randint(1, 200)))))
    return mutate(mutate(rng.choice(CORPUS)))


# Deadline cells and sentences ------------------------------------------------------------------
D_WORDS = [
    "Trước",
    "trước ngày",
    "Chậm nhất",
    "chậm nhất là ngày",
    "Hạn",
    "hoàn thành",
    "Xong",
    "Đến",
    "vào",
    "trong",
    "Hàng năm",
    "Hằng quý",
    "hằng tháng",
    "định kỳ",
    "6 tháng",
    "9 tháng",
    "mỗi tuần",
    "hàng ngày",
    "Thường xuyên",
    "liên tục",
    "Theo lộ trình",
    "Khi",
    "Sau khi",
    "Tùy",
    "Căn cứ",
    "Từ năm",
    "trở đi",
    "và những năm tiếp theo",
    "giai đoạn",
    "đến năm",
    "Quý",
    "quý",
    "năm",
    "tháng",
    "ngày",
    "của tháng kế tiếp",
    "tháng cuối kỳ",
    "cuối quý",
    "đầu năm",
    "cuối năm",
    "6 tháng đầu năm",
    "Quyết định số 01/QĐ-UBND ngày",
    "Kế hoạch số 220/KH-UBND ngày",
    "ban hành ngày",
    "1 lần/năm",
    "2 tháng/lần",
    "(",
    ")",
    ",",
    "và",
    "-",
    "/",
    "//",
    ".",
    "Truoc",
    "cham nhat",
    "hang nam",
    "quy IV",
    "nhiem vu thuong xuyen",
]


def d_number() -> str:
    r = rng.random()
    if r < 0.3:
        return f"{rng.randint(0, 40):0{rng.choice([1, 2])}d}/{rng.randint(0, 14)}/{rng.choice([rng.randint(1899, 2101), rng.randint(0, 99999)])}"
    if r < 0.45:
        return str(
            rng.choice([rng.randint(1890, 2110), rng.randint(0, 40), 10 ** rng.randint(1, 30)])
        )
    if r < 0.55:
        return rng.choice(
            [
                "I",
                "II",
                "III",
                "IV",
                "V",
                "VI",
                "1",
                "2",
                "3",
                "4",
                "5",
                "0",
                "I, II",
                "II và III",
                "I - IV",
                "I đến IV",
            ]
        )
    if r < 0.65:
        return f"ngày {rng.randint(0, 40)} tháng {rng.randint(0, 14)} năm {rng.randint(1890, 2110)}"
    if r < 0.75:
        return f"{rng.randint(0, 14)}/{rng.randint(1890, 2110)}"
    if r < 0.8:
        return f"{rng.randint(1890, 2110)}-{rng.randint(1890, 2110)}"
    return rng.choice(CELLS) if CELLS else "2025"


def gen_deadline(i: int) -> str:
    kind = i % 6
    if kind == 0:
        return rng.choice(CELLS)
    if kind == 1:
        return " ".join(
            rng.choice(D_WORDS) if rng.random() < 0.55 else d_number()
            for _ in range(rng.randint(1, 12))
        )
    if kind == 2:
        return nfd_mix(
            " ".join(rng.choice(D_WORDS + [d_number()]) for _ in range(rng.randint(1, 8)))
        )
    if kind == 3:
        s = rng.choice(LINES) or "x"
        at = rng.randrange(len(s) + 1)
        return (
            s[:at]
            + " "
            + " ".join(rng.choice(D_WORDS) + " " + d_number() for _ in range(rng.randint(1, 3)))
            + " "
            + s[at:]
        )
    if kind == 4:
        return unicode_noise(rng.randint(0, 60)) + d_number() + unicode_noise(rng.randint(0, 10))
    big = (rng.choice(D_WORDS) + " " + d_number() + " ") * rng.randint(100, 3000)
    return big


# Running ---------------------------------------------------------------------------------------
class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


signal.signal(signal.SIGALRM, _alarm)
results: dict[str, dict] = {}


def signature(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in tb if str(project) in f.filename] or tb
    last = frames[-1] if frames else None
    where = f"{Path(last.filename).name}:{last.lineno} {last.name}" if last else "?"
    return f"{type(exc).__name__} at {where}"


def run_case(name: str, fn, text: str, index: int) -> None:
    r = results.setdefault(
        name,
        {
            "tried": 0,
            "failed": 0,
            "user_errors": 0,
            "slow": 0,
            "hangs": 0,
            "max_seconds": 0.0,
            "distinct": {},
            "slowest": [],
        },
    )
    r["tried"] += 1
    signal.alarm(args.timeout)
    t0 = time.perf_counter()
    try:
        fn(text)
    except PlanbotError:
        r["user_errors"] += 1
    except Hang:
        r["hangs"] += 1
        r["failed"] += 1
        path = out / f"p1_hang_{name}_{index}.txt"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        r["distinct"].setdefault(
            f"Hang>{args.timeout}s", {"count": 0, "example": str(path), "traceback": ""}
        )["count"] += 1
    except Exception as exc:  # noqa: BLE001 - that is the point
        r["failed"] += 1
        sig = signature(exc)
        d = r["distinct"].get(sig)
        if d is None:
            path = out / f"p1_fail_{name}_{len(r['distinct'])}.txt"
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            d = r["distinct"][sig] = {
                "count": 0,
                "example": str(path),
                "traceback": traceback.format_exc()[-3000:],
            }
        d["count"] += 1
    finally:
        signal.alarm(0)
    dt = time.perf_counter() - t0
    r["max_seconds"] = max(r["max_seconds"], dt)
    if dt > args.slow:
        r["slow"] += 1
        path = out / f"p1_slow_{name}_{index}.txt"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        r["slowest"].append({"seconds": round(dt, 2), "chars": len(text), "file": str(path)})
        r["slowest"] = sorted(r["slowest"], key=lambda x: -x["seconds"])[:5]


started = time.time()
for i in range(args.n):
    run_case("parse_plan", parse_plan, gen_plan(i), i)
    if i % 1000 == 999:
        print(
            f"parse_plan {i + 1}/{args.n} failed={results['parse_plan']['failed']} ({time.time() - started:.0f} s)",
            flush=True,
        )
for i in range(args.dn):
    text = gen_deadline(i)
    run_case("parse_deadline", parse_deadline, text, i)
    run_case("find_deadline", find_deadline, text, i)
print(f"deadlines done ({time.time() - started:.0f} s)", flush=True)

if args.hyp:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    alphabet = st.characters(blacklist_categories=("Cs",))
    line = st.one_of(
        st.text(alphabet, max_size=80),
        st.sampled_from(LINES),
        st.builds(
            lambda cs: "\t".join(cs),
            st.lists(st.one_of(st.sampled_from(CELLS), st.text(alphabet, max_size=10)), max_size=8),
        ),
        st.sampled_from(HEADINGS),
    )
    plan_text = st.lists(line, max_size=60).map("\n".join)
    counter = {"i": 0}

    @settings(
        max_examples=args.hyp, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(plan_text)
    def hyp_plan(text):
        counter["i"] += 1
        run_case("parse_plan[hypothesis]", parse_plan, text, counter["i"])

    dl = st.one_of(
        st.text(alphabet, max_size=60),
        st.lists(
            st.one_of(
                st.sampled_from(D_WORDS),
                st.integers(0, 3000).map(str),
                st.sampled_from(["/", ".", "-", " ", "I", "IV"]),
            ),
            max_size=15,
        ).map(" ".join),
    )

    @settings(
        max_examples=args.hyp, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(dl)
    def hyp_deadline(text):
        counter["i"] += 1
        run_case("parse_deadline[hypothesis]", parse_deadline, text, counter["i"])
        run_case("find_deadline[hypothesis]", find_deadline, text, counter["i"])

    hyp_plan()
    hyp_deadline()

summary = {"seconds": round(time.time() - started, 1), "seed": args.seed, "results": results}
(out / "p1_result.json").write_text(
    json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
)
print(f"{'entry point':<28} {'tried':>7} {'failed':>7} {'user err':>9} {'slow':>5} {'max s':>7}")
for name, r in results.items():
    print(
        f"{name:<28} {r['tried']:>7} {r['failed']:>7} {r['user_errors']:>9} {r['slow']:>5} {r['max_seconds']:>7.2f}"
    )
    for sig, d in list(r["distinct"].items())[:6]:
        print(f"   {d['count']:>6} × {sig}  (example: {d['example']})")
        if d["traceback"]:
            print("      " + d["traceback"].strip().splitlines()[-1][:300])
total_failed = sum(r["failed"] for r in results.values())
print(f"TOTAL tried={sum(r['tried'] for r in results.values())} failed={total_failed}")
sys.exit(1 if total_failed else 0)
