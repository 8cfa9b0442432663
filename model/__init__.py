"""The joint multi-task model: one shared encoder, heads for topic, sentiment,
named entities (linked to tickers) and entity-level sentiment.

Modules: ``data`` (dataset loaders, one normalised example type), ``modeling``
(encoder + heads), ``training`` (the training loop), ``registry`` (versions on
disk), ``predictor`` (batched inference), ``linking`` (entities -> tickers).
"""
