"""PostgreSQL storage: typed models, sessions and migrations (see `migrations/`).

`writes` stores a scored batch (`ScoredPair`: an item and the model's result, what the stream worker hands
over); `model_versions` keeps the model_versions table in step with the registry's live pointer (the worker,
retraining, `finsent models` and the dashboard use it). Helpers take the database URL or a session as an
argument; the commands read FINSENT_DATABASE_URL.
"""
