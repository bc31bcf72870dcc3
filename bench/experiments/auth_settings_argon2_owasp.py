"""Experiment overlay (bench only): auth production settings with argon2_owasp.Argon2idOwaspHasher first."""

from config.settings.production import *  # noqa: F403
from config.settings.production import PASSWORD_HASHERS

PASSWORD_HASHERS = ["argon2_owasp.Argon2idOwaspHasher", *PASSWORD_HASHERS]
