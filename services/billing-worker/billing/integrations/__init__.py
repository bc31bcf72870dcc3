"""Clients for the boundaries (S3, RabbitMQ publisher, SMTP): one small module each."""
