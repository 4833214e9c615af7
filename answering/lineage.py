"""Lineage over the index: the documents each indexed plan implements, cites, replaces or
amends (`knowledge.lineage` does the reading and the answering; this module feeds it).

`lineage_answer(store, question)` is what `KnowledgeBase.ask` calls first: an `Answer` for a
lineage question ("Kế hoạch nào thực hiện Chỉ thị 25-CT/TW?"), None for any other question.
The references are read from the plans' texts once per index generation.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

from knowledge.lineage import PlanDocs, answer_lineage, answer_number, lineage_query, plan_docs
from knowledge.questions.answer import Answer, PlanRef

if TYPE_CHECKING:  # a type only: importing store.database here would load the plan parser
    from store.database import Store

_CACHE: dict[str, tuple[int, list[PlanDocs]]] = {}
_LOCK = threading.Lock()


def indexed_plan_docs(store: Store) -> list[PlanDocs]:
    """Every indexed plan's references (cached per database file and index generation)."""
    generation = store.data_version()
    key = str(store.path)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached and cached[0] == generation:
            return cached[1]
    docs = []
    for row in store.db.query(
        "SELECT id, title, number, issuer, date, year, file, implements, text FROM plans ORDER BY id"
    ):
        ref = PlanRef(
            id=row["id"],
            title=row["title"] or "",
            number=row["number"] or "",
            issuer=row["issuer"] or "",
            date=row["date"],
            file=row["file"],
            year=row["year"],
        )
        docs.append(plan_docs(ref, json.loads(row["implements"] or "[]"), row["text"] or ""))
    with _LOCK:
        _CACHE[key] = (generation, docs)
    return docs


def lineage_answer(store: Store, question: str) -> Answer | None:
    """The answer to a lineage question; None when `question` is not one."""
    query = lineage_query(question)
    if query is None:
        return None
    return answer_lineage(question, query, indexed_plan_docs(store))


def document_answer(store: Store, number: str) -> Answer:
    """`/vanban <số hiệu>`: that plan's sources and the plans implementing that document."""
    return answer_number(number, indexed_plan_docs(store))
