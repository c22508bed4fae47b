"""Where sets go once written and checked: the local folder, or S3-compatible object storage (ADR 0023)."""
