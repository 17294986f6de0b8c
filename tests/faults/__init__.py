"""Fault suite: crashes, concurrent workers, slow and rate-limited services."""
