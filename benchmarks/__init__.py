"""Throughput, CPU and memory benchmark of tap-events against the local emulator.

`python -m benchmarks.run --help`; see benchmarks/README.md and docs/performance.md.
"""
