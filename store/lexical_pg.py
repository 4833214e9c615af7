"""BM25 on PostgreSQL, scored exactly as SQLite FTS5's `bm25()` (k1 1.2, b 0.75).

`items_fts` keeps each item's lexical body (folded syllables and pairs, as on SQLite), its
tokens as FTS5's unicode61 tokenizer splits them (`tokens`, space-delimited) and their count
(`length`); `items_terms` is the inverted index: one row per (token, item) with the token's
count in the item, keyed by token (deleted with its `items_fts` row). `fts_stats` holds the row
and token totals (kept by a trigger), so a query reads no table-wide aggregate.

FTS5's formula per query phrase: idf = ln((N − n + 0.5) / (n + 0.5)), at least 1e-6; score =
Σ idf · tf · (k1 + 1) / (tf + k1 · (1 − b + b · length / avgdl)), summed in the query's phrase
order (as FTS5 does, so equal scores stay equal to the last bit). A query term the tokenizer
splits ("30/6/2025" → 30 6 2025) is a phrase, as FTS5 makes it: matched on consecutive tokens.
SQL here is psycopg's own (`%s`), run through `db.raw`.
"""

from __future__ import annotations

import math
import re
from collections import Counter

K1, B = 1.2, 0.75
_TOKEN = re.compile(r"[\w&]+")  # unicode61 with tokenchars '_&': letters, digits, '_' and '&'
DERIVED = ("items_terms",)  # rebuilt from `items_fts` bodies: never copied


def create_lexical_tables(db) -> None:
    db.execute(
        """CREATE TABLE items_fts (rowid BIGINT PRIMARY KEY, body TEXT NOT NULL,
            tokens TEXT NOT NULL, length INTEGER NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE items_terms (term TEXT NOT NULL,
            rowid BIGINT NOT NULL REFERENCES items_fts(rowid) ON DELETE CASCADE,
            tf INTEGER NOT NULL, length INTEGER NOT NULL, PRIMARY KEY (term, rowid))"""
    )
    db.execute("CREATE INDEX idx_items_terms_rowid ON items_terms(rowid)")
    db.execute(
        "CREATE TABLE fts_stats (id INTEGER PRIMARY KEY CHECK (id = 1), rows BIGINT NOT NULL, tokens BIGINT NOT NULL)"
    )
    db.execute("INSERT INTO fts_stats VALUES (1, 0, 0)")
    db.execute(
        """CREATE FUNCTION fts_stats_keep() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            UPDATE fts_stats SET rows = rows + 1, tokens = tokens + NEW.length WHERE id = 1;
          ELSE
            UPDATE fts_stats SET rows = rows - 1, tokens = tokens - OLD.length WHERE id = 1;
          END IF;
          RETURN NULL;
        END $$"""
    )
    db.execute(
        """CREATE TRIGGER items_fts_stats AFTER INSERT OR DELETE ON items_fts
           FOR EACH ROW EXECUTE FUNCTION fts_stats_keep()"""
    )


def tokens(text: str) -> list[str]:
    """The tokens FTS5 makes of a body or a query phrase."""
    return _TOKEN.findall(text.lower())


def insert_bodies(db, rows: list[tuple[int, str]]) -> None:
    """Store (item id, lexical body) rows and their postings (COPY: a plan's thousands at once)."""
    if not rows:
        return
    split = [(i, body, tokens(body)) for i, body in rows]
    with db.conn.raw.cursor() as cursor:
        with cursor.copy("COPY items_fts (rowid, body, tokens, length) FROM STDIN") as copy:
            for i, body, toks in split:
                copy.write_row((i, body, " " + " ".join(toks) + " ", len(toks)))
        with cursor.copy("COPY items_terms (term, rowid, tf, length) FROM STDIN") as copy:
            for i, _, toks in split:  # COPY's text lines written whole: tokens hold no tab, newline or \\
                tail = f"\t{i}\t%d\t{len(toks)}\n"
                copy.write("".join(term + tail % count for term, count in Counter(toks).items()))


def document_frequencies(db, terms: list[str]) -> dict[str, int]:
    """How many items hold each term, as FTS5's vocabulary counts them: a term the tokenizer
    splits ("12/2025") is no entry of it, so 0."""
    single = [t for t in dict.fromkeys(terms) if tokens(t) == [t]]
    rows = db.raw(
        "SELECT term, count(*) FROM items_terms WHERE term = ANY(%s) GROUP BY term", [single]
    ).fetchall()
    found = dict(rows)
    return {t: int(found.get(t, 0)) for t in terms}


def _phrase_rows(toks: list[str], params: list) -> str:
    """(rowid, length, count) of the items holding a phrase of several tokens, consecutively;
    occurrences counted at every start, overlapping ones too, as FTS5 counts them."""
    phrase = " ".join(toks)
    like = phrase.replace("\\", "\\\\").replace("_", "\\_")
    distinct = sorted(set(toks))  # "01 01 2026": two postings to find
    params += [f"(?= {phrase} )", distinct, len(distinct), f"% {like} %"]  # tokens hold only \w and &: no regex syntax
    return (
        "SELECT f.rowid, f.length, regexp_count(f.tokens, %s) AS tf "
        "FROM items_fts f WHERE f.rowid IN (SELECT rowid FROM items_terms WHERE term = ANY(%s) "
        "GROUP BY rowid HAVING count(*) = %s) AND f.tokens LIKE %s"
    )


def phrase_hits(db, phrases: list[list[str]]) -> dict[str, int]:
    """How many items hold each phrase (keyed by its tokens joined by spaces)."""
    found = document_frequencies(db, [p[0] for p in phrases if len(p) == 1])
    hits = {p[0]: found[p[0]] for p in phrases if len(p) == 1}
    for toks in (p for p in phrases if len(p) > 1):
        params: list = []
        hits[" ".join(toks)] = int(
            db.raw(f"SELECT count(*) FROM ({_phrase_rows(toks, params)}) p", params).fetchone()[0]
        )
    return hits


def lexical(
    db, terms: list[str], limit: int, plans: frozenset[int] | None = None
) -> list[tuple[int, float]]:
    """(item id, BM25 score ≥ 0), best first, of the items holding any term; `plans`: of theirs only."""
    phrases = [toks for toks in (tokens(t) for t in terms) if toks]
    if not phrases:
        return []
    rows, total = db.raw("SELECT rows, tokens FROM fts_stats").fetchone()
    if not rows:
        return []
    avgdl = total / rows
    hits = phrase_hits(db, phrases)
    single_terms, single_idf, single_order = [], [], []
    parts, params = [], []
    for order, toks in enumerate(phrases):
        n = hits[" ".join(toks)]
        if not n:
            continue
        idf = max(math.log((rows - n + 0.5) / (n + 0.5)), 1e-6)
        if len(toks) == 1:
            single_terms.append(toks[0])
            single_idf.append(idf)
            single_order.append(order)
        else:
            parts.append(
                f"SELECT rowid, length, tf, {idf!r}::float8 AS idf, {order} AS ord FROM ({_phrase_rows(toks, params)}) p"
            )
    if single_terms:
        parts.insert(
            0,
            "SELECT t.rowid, t.length, t.tf, q.idf, q.ord FROM items_terms t "
            "JOIN unnest(%s::text[], %s::float8[], %s::int[]) AS q(term, idf, ord) ON q.term = t.term",
        )
        params[:0] = [single_terms, single_idf, single_order]
    if not parts:
        return []
    # FTS5's own arithmetic, operation for operation: idf * ((tf * (k1 + 1)) / (tf + k1 * (1 - b + b * D / avgdl)))
    k1, k1_1, b_1, b, dl = (f"{v!r}::float8" for v in (K1, K1 + 1, 1 - B, B, avgdl))  # not NUMERIC literals
    tf, length = "h.tf::float8", "h.length::float8"
    score = f"sum(h.idf * (({tf} * {k1_1}) / ({tf} + {k1} * ({b_1} + {b} * {length} / {dl}))) ORDER BY h.ord)"
    sql = f"SELECT h.rowid, {score} AS score FROM ({' UNION ALL '.join(parts)}) h"
    if plans is not None:
        sql += " JOIN items i ON i.id = h.rowid AND i.plan_id = ANY(%s)"
        params.append(sorted(plans))
    sql += " GROUP BY h.rowid ORDER BY score DESC, h.rowid LIMIT %s"
    return [(int(r[0]), float(r[1])) for r in db.raw(sql, [*params, limit]).fetchall()]


def plan_has_term(db, plan_id: int, term: str) -> bool:
    """Some item of the plan holds this term."""
    toks = tokens(term)
    if not toks:
        return False
    if len(toks) == 1:
        sql, params = "SELECT rowid FROM items_terms WHERE term = %s", [toks[0]]
    else:
        params = []
        sql = f"SELECT rowid FROM ({_phrase_rows(toks, params)}) p"
    row = db.raw(
        f"SELECT 1 FROM ({sql}) h JOIN items i ON i.id = h.rowid WHERE i.plan_id = %s LIMIT 1",
        [*params, plan_id],
    ).fetchone()
    return row is not None
