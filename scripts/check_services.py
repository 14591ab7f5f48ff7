"""Check that the PostgreSQL and Redis the test suite uses answer; say what to do when not."""

import os
import sys
from urllib.parse import urlparse

import psycopg
import redis

pg_url = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
problems = []
try:
    parsed = urlparse(pg_url)
    with psycopg.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        dbname="postgres",
        connect_timeout=3,
    ) as connection:
        connection.execute("SELECT 1")
except psycopg.Error as error:
    problems.append(
        f"PostgreSQL at {pg_url} is not reachable ({str(error).strip()}).\n"
        "  Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
        "  or point TEST_DATABASE_URL at a PostgreSQL 15+ server."
    )
try:
    redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2).ping()
except redis.RedisError as error:
    problems.append(
        f"Redis at {redis_url} is not reachable ({error}).\n"
        '  Start it with: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no\n'
        "  or point TEST_REDIS_URL at a Redis 7+ server."
    )
if problems:
    print("make test needs PostgreSQL and Redis:\n" + "\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"services: PostgreSQL ok ({pg_url}), Redis ok ({redis_url})")
