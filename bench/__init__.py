"""Benchmark suite: the service against raw libvips (the ceiling) and the original Node stack."""
