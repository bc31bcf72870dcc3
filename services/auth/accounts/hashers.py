"""Password hashing parameters."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane) instead of Django's defaults
    (100 MiB, 2 passes, 8 lanes): every concurrent login held 100 MiB, pushing a web process to ~280 MB, and
    the bench measured 7.5 logins/s against 51.6/s with these parameters (BENCHMARKS.md). Stored hashes with
    other parameters still verify and are re-hashed at the next login (`must_update`)."""

    time_cost = 2
    memory_cost = 19_456
    parallelism = 1
