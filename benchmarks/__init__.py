"""``make bench``: our views against a naive baseline and the framework's floor. Never imported
by the app (see ``run.py``)."""
