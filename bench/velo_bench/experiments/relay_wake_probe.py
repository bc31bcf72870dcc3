"""Relay wake-up probe for the bench (scenario 6): how long after a write's commit its event reaches the
broker. Binds an exclusive queue to `rentals.events` (rental.started) and `auth.events` (user.registered)
and prints one JSON line per message — event type, its rental id or e-mail, `occurred_at` (stamped inside
the write's transaction, before its commit) and the local arrival time — until stdin closes. Run with the
rentals venv (pika).
"""

import datetime as dt
import json
import os
import sys
import threading
import time

import pika


def main() -> int:
    connection = pika.BlockingConnection(pika.URLParameters(os.environ["AMQP_URL"]))
    channel = connection.channel()
    queue = channel.queue_declare(queue="", exclusive=True, auto_delete=True).method.queue
    for exchange, key in (("rentals.events", "rental.started"), ("auth.events", "user.registered")):
        channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
        channel.queue_bind(queue=queue, exchange=exchange, routing_key=key)
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    print(json.dumps({"ready": True}), flush=True)

    def on_message(ch, method, properties, body):
        received = time.time()
        event = json.loads(body)
        occurred = dt.datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00")).timestamp()
        data = event["data"]
        key = data.get("rental_id") or data.get("email")
        line = {"type": event["event_type"], "key": key, "occurred": occurred, "received": received}
        print(json.dumps(line), flush=True)
        ch.basic_ack(method.delivery_tag)

    channel.basic_consume(queue=queue, on_message_callback=on_message)
    while not stop.is_set():
        connection.process_data_events(time_limit=0.2)
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
