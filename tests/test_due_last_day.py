"""Due-date filters compare each deadline's LAST day: "Trước 01/7/2025" is due by 30/6/2025."""

from __future__ import annotations

from store.database import Store


def _texts(store: Store, ids: list[int]) -> list[str]:
    return [row["text"] for row in store.items(ids).values()]


def test_before_a_first_of_month_falls_in_the_previous_month(sample_db):
    """Sample plan 003, row 6: "Trước ngày 01/7/2025" belongs to June 2025, not to July."""
    store = Store(sample_db)
    try:
        june, _ = store.due_item_ids("2025-06-01", "2025-06-30")
        july, _ = store.due_item_ids("2025-07-01", "2025-07-31")
        row = "Thực hiện thống nhất mô hình tổ chức, quản lý đối với Trung tâm y tế cấp huyện"
        assert any(text.startswith(row) for text in _texts(store, june))
        assert not any(text.startswith(row) for text in _texts(store, july))
    finally:
        store.close()
