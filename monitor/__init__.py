"""finsent: a streaming financial-news sentiment monitor.

Subpackages follow the data flow: ``ingest`` (connectors into Kafka) ->
``stream`` (the Faust worker) -> ``storage`` (PostgreSQL) -> ``alerts``
(anomaly rules and webhooks); ``stack`` runs the local Kafka and PostgreSQL.
The joint model lives in the top-level ``model`` package, the analysts'
dashboard in ``dashboards``.
"""

__version__ = "0.1.0"
