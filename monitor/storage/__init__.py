"""PostgreSQL storage: typed models, sessions and migrations (see `migrations/`)."""
