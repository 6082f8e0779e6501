"""Load and scale benchmarks: `make bench` (not part of the test suite)."""
