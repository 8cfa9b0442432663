"""Connectors that put news on the news topic: corpus replay, RSS/Atom polling, JSON lines."""
