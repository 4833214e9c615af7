#!/usr/bin/env python3
"""Minimal repro: one answer is read with several SELECTs, each its own snapshot; a plan
re-indexed (committed) between them vanishes from the answer ("N nội dung trong P kế hoạch"
with a whole plan missing), as seen once in probe 6.

usage: PROJECT/.venv/bin/python repro_read_straddles_commit.py PROJECT_DIR DB
DB: an index of the sample plans (copied first).
"""

import shutil
import sys

sys.path.insert(0, sys.argv[1])
from pathlib import Path

from answering.knowledge_base import KnowledgeBase
from indexer.indexing import index_text
from store.database import Store

db = Path("/tmp/probes/straddle.db")
for s in ("", "-wal", "-shm"):
    Path(str(db) + s).unlink(missing_ok=True)
shutil.copy(sys.argv[2], db)
reader, writer = Store(db), Store(db)
kb = KnowledgeBase(reader, None)
before = kb.duties("Sở Nội vụ")
plan_file = "003_c46a33fedfcb2327.txt"
text = writer.db.execute("SELECT text FROM plans WHERE file = ?", [plan_file]).fetchone()[0]
original_items = reader.items


def items_after_a_commit(ids):
    # Another process (planbot index --force, /reindex, an upload) commits here.
    index_text(writer, plan_file, text, force=True)
    return original_items(ids)


reader.items = items_after_a_commit
after = kb.duties("Sở Nội vụ")
reader.items = original_items
again = kb.duties("Sở Nội vụ")


def count(rs):
    return len(rs), len({r.plan.id for r in rs})


print(
    f"before: {count(before)} (items, plans); during a commit: {count(after)}; after: {count(again)}"
)
sys.exit(1 if count(after) != count(before) else 0)
