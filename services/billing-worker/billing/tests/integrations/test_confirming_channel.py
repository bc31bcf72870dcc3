"""ConfirmingChannel's publishes carry the connection's broker user as their user_id (no broker needed)."""

from billing.integrations.amqp import ConfirmingChannel


class FakeChannel:
    def __init__(self) -> None:
        self.events = {"basic_ack": set(), "basic_nack": set()}
        self.published = []

    def confirm_select(self) -> None:
        pass

    def basic_publish(self, message, exchange, routing_key):
        self.published.append((message, exchange, routing_key))


def test_every_publish_carries_the_user_id():
    channel = FakeChannel()
    confirming = ConfirmingChannel(connection=None, channel=channel, user_id="billing")
    confirming.publish_event(
        exchange="billing.events", event={"event_id": "e-1", "event_type": "invoice.issued", "data": {}}
    )
    [(message, exchange, routing_key)] = channel.published
    assert (exchange, routing_key) == ("billing.events", "invoice.issued")
    assert message.properties["user_id"] == "billing"
    assert message.properties["message_id"] == "e-1"
