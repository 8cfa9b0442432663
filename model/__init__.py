"""The joint multi-task model: one shared encoder, heads for topic, sentiment,
named entities (linked to tickers) and entity-level sentiment.

A library: paths and options come in as arguments; it imports nothing from
``monitor`` or ``dashboards`` and of ``kernel`` only ``paths`` and ``reports``
(tests/unit/test_import_directions.py). By role: ``network`` (encoder + heads,
batching, features, labels, result types, ticker linking), ``training`` (the
loop, experiments, evaluation, schedules, event fine-tuning), ``serving``
(registry, predictor, ONNX backend), ``reports`` (benchmarks, model card,
baselines), ``data`` (dataset loaders, one normalised example type).
"""
