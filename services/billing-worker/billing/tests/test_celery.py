import dataclasses
import multiprocessing
import os

import pytest
from celery.signals import worker_process_init

import billing.celery as celery_module


def _pool_process(nice: int, answers) -> None:
    celery_module.settings = dataclasses.replace(celery_module.settings, child_nice=nice)
    worker_process_init.send(sender=None)  # what Celery sends in each new pool process
    answers.put(os.getpriority(os.PRIO_PROCESS, 0))


@pytest.mark.parametrize("nice", [0, 10])
def test_a_pool_process_lowers_its_own_cpu_priority(nice):
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    process = context.Process(target=_pool_process, args=(nice, answers))
    process.start()
    priority = answers.get(timeout=10)
    process.join(timeout=10)

    assert priority == min(19, os.getpriority(os.PRIO_PROCESS, 0) + nice)
    assert celery_module.settings.child_nice == 10  # the default; only the pool process changed
