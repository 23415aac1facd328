"""vpcsim's benchmarks: ``python -m benchmarks`` runs them all and prints one JSON object.

Timing targets live here, never in tests.
"""
