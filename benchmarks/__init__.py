"""The benchmarks that measure the running system, beside each other and out of the serving path.

``pipeline`` (Kafka -> worker -> PostgreSQL next to the model alone),
``scaleout`` (two workers sharing the news topic, one stopped mid-run) and
``dashboard`` (every page's queries and page runs on a large seeded database);
``workers`` runs the stream worker as a subprocess for them and for the
integration tests. The ``finsent bench ...`` and ``finsent dashboard bench``
commands are wired in the shell (``finsent``). Benchmarks may import
``kernel``, ``model``, ``monitor`` and ``dashboards``; nothing in a serving
package (``monitor.stream``, ``monitor.storage``, ``monitor.alerts``,
``monitor.ingest``, ``model.serving``, ``dashboards``) imports them. The
model's own measurements (quality, speed, ONNX parity, the model card) stay
in ``model/reports``. See docs/architecture.md.
"""
