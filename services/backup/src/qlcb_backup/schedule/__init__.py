"""Taking sets on a cron schedule and keeping N daily, weekly and monthly ones (ADR 0023)."""
