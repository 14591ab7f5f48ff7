"""Machine suggestions for identification requests: Plant.id v3 and Pl@ntNet v2 clients, a
circuit breaker and a result cache shared through Redis, the service that runs them in
parallel, and the background task that calls it.

Import the pieces from their modules (``providers``, ``breaker``, ``cache``, ``service``,
``tasks``); this package file imports nothing so that loading the clients never pulls in the
task backend.
"""
