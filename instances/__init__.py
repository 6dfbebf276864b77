"""Example instances and the seeded instance generator."""
