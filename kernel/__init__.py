"""The shared kernel of finsent: one project root, settings and report writing.

Everything here is small on purpose and imports nothing of ours but ``kernel``:
``paths`` nothing at all, ``reports`` and ``settings`` only ``paths``. The
library (``model``) may use ``paths`` and ``reports``; the app (``monitor``,
``dashboards``), the benchmarks and the ``finsent`` command shell may use any
of it. See docs/architecture.md.
"""
