import threading

import pytest
from django.core import mail

from accounts import emails
from accounts.services import user_password_reset_request

pytestmark = pytest.mark.django_db


def test_account_mail_leaves_from_a_background_thread(make_user, settings, monkeypatch):
    settings.AUTH_MAIL_ASYNC = True
    user = make_user()
    release, senders = threading.Event(), []
    real_deliver = emails._deliver

    def slow_deliver(message, kind):
        senders.append(threading.current_thread().name)
        release.wait(5)
        return real_deliver(message, kind)

    monkeypatch.setattr(emails, "_deliver", slow_deliver)
    user_password_reset_request(email=user.email, client_ip="192.0.2.1")
    assert mail.outbox == []  # the request did not wait for the mail
    release.set()
    emails._mail_executor().submit(lambda: None).result(5)  # the pool has run what was queued before
    for _ in range(50):
        if mail.outbox:
            break
        threading.Event().wait(0.05)
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert senders[0].startswith("account-mail")


def test_a_mail_failure_is_logged_not_raised(make_user, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1
    user = make_user()
    user_password_reset_request(email=user.email, client_ip="192.0.2.1")
    assert "account mail could not be sent" in caplog.text
