"""Embeddings in pgvector: stored as `vector`, read back in its binary form, searched by cosine
distance (`<=>`) through an HNSW index (`vector_cosine_ops`), one per dimension in use (the
column takes any dimension; an index needs one: it is built on `vector::vector(d)` for the rows
of that dimension). SQL here is psycopg's own (`%s`), run through `db.raw`.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

EF_SEARCH = 1000  # pgvector's maximum candidate list: results equal to brute force at k ≤ 100
OVERSAMPLE = (
    4  # rows asked of the index per item wanted (stale rows and other models are dropped after)
)


def literal(vector) -> str:
    """A vector in pgvector's text form (float32 values written exactly)."""
    values = np.asarray(vector, dtype=np.float32).tolist()  # each float32 as the float it is
    return "[" + ",".join(map(repr, values)) + "]"


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
    """An HNSW index for every dimension stored (after a bulk load): the graph built in memory
    (`maintenance_work_mem`), by parallel workers where the server allows them."""
    db.raw("SET maintenance_work_mem = '512MB'")
    db.raw("SET max_parallel_maintenance_workers = 2")
    for (dim,) in db.raw("SELECT DISTINCT vector_dims(vector) FROM embeddings").fetchall():
        ensure_index(db, int(dim))


# A bulk load drops the HNSW indexes once it has added this share of the vectors stored before
# it (and at least BULK_MIN_VECTORS): inserting into the graph row by row is then slower than
# building it once at the end. Searches in between scan the table (exact, slower).
BULK_SHARE = 0.2
BULK_MIN_VECTORS = 2000


@dataclass
class Bulk:
    stored: int  # vectors in the table when the load began
    added: int = 0
    dropped: bool = False
    build_seconds: float = 0.0


@contextmanager
def bulk(db) -> Iterator[Bulk]:
    """Many plans saved in a row (`planbot index` of a folder, a benchmark's build): the HNSW
    indexes are dropped when the load grows large and built once at its end."""
    if getattr(db, "vector_bulk", None) is not None:  # nested: the outer load decides
        yield db.vector_bulk
        return
    state = Bulk(int(db.raw("SELECT count(*) FROM embeddings").fetchone()[0]))
    db.vector_bulk = state
    # Each plan's commit does not wait for its WAL flush: a crash may lose the last plans of the
    # load (never half of one); indexing the folder again stores them.
    db.raw("SET synchronous_commit = off")
    try:
        yield state
    finally:
        db.vector_bulk = None
        db.raw("RESET synchronous_commit")
        if state.dropped:
            started = time.perf_counter()
            build_indexes(db)
            state.build_seconds = time.perf_counter() - started


def _bulk_allows_index(db, count: int) -> bool:
    """Whether this save keeps the HNSW graph (adding its rows to it), in or out of a bulk load."""
    state = getattr(db, "vector_bulk", None)
    if state is None:
        return True
    state.added += count
    if not state.dropped and state.added >= max(BULK_MIN_VECTORS, BULK_SHARE * state.stored):
        drop_indexes(db)
        state.dropped = True
    return not state.dropped


def save_vectors(db, model: str, vectors: list[tuple[str, object]]) -> None:
    if not vectors:
        return
    dims = {len(v) for _, v in vectors}
    indexed = _bulk_allows_index(db, len(vectors))
    with db.conn:
        for dim in dims if indexed else ():
            ensure_index(db, dim)
        with db.conn.raw.cursor() as cursor:  # COPY in pgvector's binary form, then one upsert
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS embeddings_load (LIKE embeddings) ON COMMIT DELETE ROWS"
            )
            with cursor.copy(
                "COPY embeddings_load (content_hash, model, vector) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["text", "text", "bytea"])  # bytes sent as they are: vector_recv reads them
                for h, v in dict(vectors).items():  # one row per hash (the last vector, as the upsert kept)
                    copy.write_row((h, model, encode(v)))
            cursor.execute(
                """INSERT INTO embeddings (content_hash, model, vector)
                   SELECT content_hash, model, vector FROM embeddings_load
                   ON CONFLICT (content_hash, model) DO UPDATE SET vector = excluded.vector"""
            )
            cursor.execute("DELETE FROM embeddings_load")


def encode(vector) -> bytes:
    """A vector in pgvector's binary form (dimension, unused, big-endian float32s)."""
    values = np.asarray(vector, dtype=">f4")
    return struct.pack(">hh", len(values), 0) + values.tobytes()


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
