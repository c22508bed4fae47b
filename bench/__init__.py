"""Benchmarks: each measures our path beside a raw baseline in the same run (`make bench`)."""
