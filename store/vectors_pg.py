"""Embeddings in pgvector: stored as `vector`, read back in its binary form, searched by cosine
distance (`<=>`) through an HNSW index (`vector_cosine_ops`), one per dimension in use (the
column takes any dimension; an index needs one: it is built on `vector::vector(d)` for the rows
of that dimension). SQL here is psycopg's own (`%s`), run through `db.raw`.
"""

from __future__ import annotations

import numpy as np

EF_SEARCH = 1000  # pgvector's maximum candidate list: results equal to brute force at k ≤ 100
OVERSAMPLE = (
    4  # rows asked of the index per item wanted (stale rows and other models are dropped after)
)


def literal(vector) -> str:
    """A vector in pgvector's text form (float32 values written exactly)."""
    values = np.asarray(vector, dtype=np.float32)
    return "[" + ",".join(repr(float(x)) for x in values) + "]"


def ensure_index(db, dim: int) -> None:
    db.raw(
        f"""CREATE INDEX IF NOT EXISTS idx_embeddings_hnsw_{dim} ON embeddings
            USING hnsw ((vector::vector({dim})) vector_cosine_ops) WITH (m = 16, ef_construction = 200)
            WHERE vector_dims(vector) = {dim}"""
    )


def drop_indexes(db) -> None:
    """Before a bulk load (`store.copy`): building the graph once after is far faster than per row."""
    for (name,) in db.raw(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'embeddings' AND indexname LIKE 'idx_embeddings_hnsw_%'"
    ).fetchall():
        db.raw(f'DROP INDEX "{name}"')


def build_indexes(db) -> None:
    """An HNSW index for every dimension stored (after a bulk load)."""
    db.raw("SET maintenance_work_mem = '512MB'")
    for (dim,) in db.raw("SELECT DISTINCT vector_dims(vector) FROM embeddings").fetchall():
        ensure_index(db, int(dim))


def save_vectors(db, model: str, vectors: list[tuple[str, object]]) -> None:
    if not vectors:
        return
    dims = {len(v) for _, v in vectors}
    with db.conn:
        for dim in dims:
            ensure_index(db, dim)
        with db.conn.raw.cursor() as cursor:
            cursor.executemany(
                """INSERT INTO embeddings (content_hash, model, vector) VALUES (%s, %s, %s::vector)
                   ON CONFLICT (content_hash, model) DO UPDATE SET vector = excluded.vector""",
                [(h, model, literal(v)) for h, v in vectors],
            )


def decode(data: bytes) -> np.ndarray:
    """pgvector's binary form (dimension, unused, big-endian float32s) as float32."""
    return np.frombuffer(data, dtype=">f4", offset=4).astype(np.float32)


def nearest(db, model: str, query: np.ndarray, k: int) -> list[int]:
    """The ids of the k items nearest the query by cosine, through the HNSW index."""
    dim = len(query)
    db.raw(f"SET hnsw.ef_search = {EF_SEARCH}")
    rows = db.raw(
        f"""SELECT i.id FROM (
              SELECT content_hash, vector::vector({dim}) <=> %s::vector({dim}) AS distance FROM embeddings
              WHERE vector_dims(vector) = {dim} AND model = %s
              ORDER BY vector::vector({dim}) <=> %s::vector({dim}) LIMIT %s) e
            JOIN items i ON i.content_hash = e.content_hash ORDER BY e.distance, i.id LIMIT %s""",
        [literal(query), model, literal(query), max(k * OVERSAMPLE, EF_SEARCH // 2), k],
    ).fetchall()
    return [int(r[0]) for r in rows]
