"""Alembic's entry point for reports's migrations (ADR 0022)."""

from qlcb_common.migrations import run_env

run_env()
