"""The `finsent` command shell: the CLI and the wiring of its commands.

``cli`` is the ``finsent`` command; ``model_commands``, ``data_commands``,
``bench_commands`` and ``dashboard_commands`` read the settings (``kernel``)
and pass values into the packages they drive. Nothing but this shell (and
migrations, tests and scripts) imports ``finsent``: the shared ground floor is
the ``kernel`` package. See docs/architecture.md.
"""
