"""The notifier's Celery app: ``celery -A config worker``. The worker's main process also runs the event
consumer and the dispatcher (notifications/worker.py), started by a bootstep after the pool forked."""

import os

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("notifier")


def _configure() -> None:
    from django.conf import settings
    from kombu import Exchange, Queue
    from notifications.topology import names

    tasks = names()["tasks"]
    app.conf.update(
        broker_url=settings.AMQP_URL,
        broker_transport_options={"confirm_publish": True},
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        event_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        worker_prefetch_multiplier=4,
        task_soft_time_limit=60,
        task_time_limit=90,
        # Through the notifier.tasks exchange: the notifier's broker user may not write to the default one.
        task_queues=(
            Queue(tasks, Exchange(tasks, type="direct", durable=True), routing_key=tasks, durable=True),
        ),
        task_default_queue=tasks,
        task_default_exchange=tasks,
        task_default_routing_key=tasks,
        task_create_missing_queues=False,
        task_routes={"notifier.*": {"queue": tasks, "exchange": tasks, "routing_key": tasks}},
        worker_send_task_events=False,
        timezone="UTC",
        enable_utc=True,
    )


class ConsumerStep(bootsteps.StartStopStep):
    """Event consumer and dispatcher threads in the worker's main process."""

    requires = {"celery.worker.components:Pool"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.runner = None

    def start(self, worker):
        from notifications.worker import BackgroundRunner

        self.runner = BackgroundRunner()
        self.runner.start()

    def stop(self, worker):
        if self.runner is not None:
            self.runner.stop()


def _setup() -> None:
    import django

    django.setup()
    _configure()
    app.autodiscover_tasks(["notifications"])


_setup()
app.steps["worker"].add(ConsumerStep)
