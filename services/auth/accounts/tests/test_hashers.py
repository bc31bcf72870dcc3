from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, make_password

from accounts.hashers import Argon2idHasher


def test_hash_carries_owasp_parameters_and_verifies():
    hasher = Argon2idHasher()
    encoded = hasher.encode("correct horse battery", hasher.salt())
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert hasher.verify("correct horse battery", encoded)
    assert not hasher.verify("wrong", encoded)


def test_hashes_made_with_django_defaults_still_verify_and_are_upgraded(settings):
    settings.PASSWORD_HASHERS = ["accounts.hashers.Argon2idHasher"]
    old = Argon2PasswordHasher().encode("correct horse battery", "somesaltsomesalt")
    upgraded = []
    assert check_password("correct horse battery", old, setter=upgraded.append)
    assert upgraded == ["correct horse battery"]
    assert make_password("x").startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
