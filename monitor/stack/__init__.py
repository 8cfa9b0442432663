"""Local services for development and tests: a real Kafka broker and PostgreSQL."""
