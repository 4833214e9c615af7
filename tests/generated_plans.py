"""Plan texts generated for tests: real plan layout, as many dated tasks as a test needs."""

from __future__ import annotations

from datetime import date


def plan_with_tasks(n: int, before: date) -> str:
    """A plan whose appendix has `n` tasks due "Trước ngày <before>" (a real plan text)."""
    rows = ["STT\tNội dung nhiệm vụ\tCơ quan chủ trì\tCơ quan phối hợp\tThời gian hoàn thành"]
    for i in range(1, n + 1):
        rows.append(
            f"{i}\tNhiệm vụ thử số {i:03d}: rà soát, tổng hợp và báo cáo kết quả thực hiện đợt {i:03d} "
            f"theo hướng dẫn của Ủy ban nhân dân tỉnh\tSở Nội vụ\tSở Tài chính\tTrước ngày {before:%d/%m/%Y}"
        )
    return (
        "ỦY BAN NHÂN DÂN TỈNH THỬ NGHIỆM\n\nSố: 999/KH-UBND\n\nThử Nghiệm, ngày 01 tháng 6 năm 2025\n\n"
        "KẾ HOẠCH\nThử nghiệm nhắc việc năm 2025\n\nI. MỤC ĐÍCH, YÊU CẦU\n\n1. Bảo đảm đúng hạn.\n\n"
        "II. TỔ CHỨC THỰC HIỆN\n\n1. Sở Nội vụ chủ trì, theo dõi, đôn đốc thực hiện Kế hoạch.\n\n"
        "PHỤ LỤC\n\n" + "\n".join(rows) + "\n"
    )


