"""The stream worker: news topic -> joint model -> PostgreSQL (+ scored topic, dead letters)."""
