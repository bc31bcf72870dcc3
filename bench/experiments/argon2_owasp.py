"""Experiment (bench only): Argon2id with OWASP's minimum parameters (19 MiB, t=2, p=1) instead of
Django's defaults (100 MiB, t=2, p=8). Same algorithm name, so stored hashes keep verifying and Django
re-hashes them with these parameters at the next successful login (must_update)."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idOwaspHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19456
    parallelism = 1
