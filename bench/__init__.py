"""Benchmarks, run by ``make bench``; never imported by prepaid itself."""
