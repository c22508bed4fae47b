"""How the pages name a person's sex and status."""

SEX_LABELS = {"male": "Nam", "female": "Nữ"}
STATUS_LABELS = {
    "active": "Đang công tác",
    "retired": "Nghỉ hưu",
    "resigned": "Thôi việc",
    "deceased": "Từ trần",
    "moved_out": "Chuyển ra ngoài ngành",
}
