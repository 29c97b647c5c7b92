"""Benchmarks of bastion against peer WSGI servers; run with ``python -m bench``.

Never part of the test suite: the figures depend on the machine and its load.
"""
