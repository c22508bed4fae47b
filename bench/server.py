"""How the benchmarks' PostgreSQL is configured."""

SERVER_SIZED = {
    "shared_buffers": "2GB",
    "effective_cache_size": "6GB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
}
"""PostgreSQL configured as a database server of two cores and 8 GB would be, rather than devstack's
defaults for a throwaway cluster (128 MB of shared buffers, a checkpoint every 5 minutes or 1 GB of
WAL): over a million people the indexes outgrow those buffers many times, and the benchmarks would
measure the page cache and the checkpoints' full-page writes more than the queries."""
