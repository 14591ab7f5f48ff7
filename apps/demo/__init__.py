"""Demo and benchmark data: ``manage.py seed_demo`` (``seeding``, ``seeding.scaled``) and the
counter recount bulk loads need (``recount``)."""
