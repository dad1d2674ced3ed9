"""Benchmarks: posting throughput against the database's own limit, and report scaling."""
