"""vpcsim's benchmarks: ``python -m benchmarks`` runs them all, writes a JSON result and its plots
(docs/benchmarks.md says what each measures).

Timing targets live here, never in tests.
"""
