"""The ``make bench`` harness, one module per step (``benchmarks/run.py`` runs them in order):
``config`` (options, environment, machine), ``data`` (the seeded database), ``inprocess`` (the
Django test client cases), ``plans`` (``EXPLAIN (ANALYZE, BUFFERS)``), ``load`` (gunicorn + wrk)
and ``report`` (verdicts, ``RESULTS.md``, ``plans/<scale>.md``). ``config`` imports no Django, so
``benchmarks/settings.py`` can read its names; the others are imported after ``django.setup()``."""
