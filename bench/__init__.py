"""migtui's benchmark suite: ``python -m bench.run`` (or ``make bench``).

Every figure runs on this machine only (127.0.0.1), bounded in time, and writes its numbers into
``bench/results/latest.json`` plus a short Markdown table ``bench/results/latest.md``. A figure
whose part of migtui (or whose peer tool) is missing is recorded as ``not measured: <reason>``
instead of failing the run. Timings are measured here, never asserted in the test suite.
"""
