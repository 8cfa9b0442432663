"""`finsent dashboard`: the dashboard's own commands (dashboards/cli.py) plus its benchmark.

    finsent dashboard bench --articles 1000000 --json   # seed a bench database, time each page

Why here and not in dashboards/: the benchmark (benchmarks/dashboard.py) is no
part of the serving path, and nothing under dashboards/ imports `benchmarks`;
the shell adds the command to the dashboard's group. The benchmark is imported
inside the command, so `finsent dashboard` starts as fast as before.
"""

from __future__ import annotations

import click

from dashboards.cli import dashboard


@dashboard.command("bench")
@click.option("--articles", type=int, default=1_000_000, show_default=True, help="Articles to seed.")
@click.option("--database", "database_name", default="finsent_bench_dashboard", show_default=True,
              help="Database to (re)create on the configured server.")
@click.option("--reuse", is_flag=True, help="Keep an existing seeded bench database instead of reseeding it.")
@click.option("--repeats", type=int, default=5, show_default=True, help="Timed runs per query.")
@click.option("--seed-only", is_flag=True, help="Seed (or keep, with --reuse) the database and stop before timing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object as the last line.")
def bench(articles: int, database_name: str, reuse: bool, repeats: int, seed_only: bool, as_json: bool) -> None:
    """Seed a separate database with ARTICLES articles and time every page's queries and page loads."""
    from benchmarks.dashboard import run_benchmark
    from kernel.settings import get_settings

    run_benchmark(get_settings().database_url, articles=articles, database_name=database_name, reuse=reuse,
                  repeats=repeats, as_json=as_json, seed_only=seed_only)
