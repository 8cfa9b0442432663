"""The shared kernel of finsent: one project root, settings, report writing and the CLI.

Everything here is small on purpose. ``paths`` and ``reports`` import nothing of
ours, ``settings`` only ``paths``; the library packages (``model``) may use
``paths`` and ``reports``; the app (``monitor``, ``dashboards``) may use any of
it except ``cli``, which wires every package into the ``finsent`` command.
See docs/architecture.md.
"""
