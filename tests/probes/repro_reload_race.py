#!/usr/bin/env python3
"""Minimal repro: KnowledgeBase.reload() racing a question in another thread (what the bot does:
questions run in worker threads while /reindex or any index commit triggers reload()).

usage: PROJECT/.venv/bin/python repro_reload_race.py PROJECT_DIR DB_WITH_EMBEDDINGS [seconds]
A stand-in embedder (same model name as the stored vectors, 5 ms per query) keeps it fast.
"""

import sys
import threading
import time
from collections import Counter

sys.path.insert(0, sys.argv[1])
import numpy as np

from answering.knowledge_base import KnowledgeBase
from store.database import Store

store = Store(sys.argv[2])
model = store.db.execute("SELECT model FROM embeddings LIMIT 1").fetchone()[0]


class FakeEmbedder:
    name = model

    def encode_queries(self, texts):
        time.sleep(0.005)
        return np.ones((len(texts), 384), dtype=np.float32) / np.sqrt(384)


kb = KnowledgeBase(store, FakeEmbedder())
stop = time.monotonic() + float(sys.argv[3] if len(sys.argv) > 3 else 10)
errors, asked = Counter(), Counter()


def asker():
    while time.monotonic() < stop:
        try:
            kb.ask("Ai chủ trì việc chuyển Trung tâm Y tế về UBND huyện?", limit=30)
            asked["ok"] += 1
        except Exception as exc:
            errors[f"{type(exc).__name__}: {str(exc)[:90]}"] += 1


def reloader():
    while time.monotonic() < stop:
        kb.reload()


threads = [threading.Thread(target=asker) for _ in range(4)] + [threading.Thread(target=reloader)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"questions answered: {asked['ok']}, raised: {sum(errors.values())}")
for k, v in errors.most_common():
    print(f"  {v} × {k}")
sys.exit(1 if errors else 0)
