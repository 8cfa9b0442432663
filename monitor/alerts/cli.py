"""`finsent alerts ...` (check, list, silence, unsilence, silences, deliveries, dispatch, receiver, replay)
and `finsent alerter`.

    finsent alerter                          # evaluate rules every evaluation_interval and dispatch webhooks
    finsent alerter --once --at 2026-03-03T10:00Z   # one step as of a past time (drills, tests)
    finsent alerts check --rules FILE        # validate a rules file
    finsent alerts silence --match ticker=ACME --for 2h --comment "earnings call" --author ana
    finsent alerts silence --match 'ticker=~"B.*"' --match ticker!=BA --for 1h --comment x --author ana --dry-run
    finsent alerts replay --from 2026-11-01T00:00Z --to 2026-11-02T00:00Z
    finsent alerts backtest --events tests/fixtures/events/dev_events.yaml   # recall, false alarms, alerts/day
    finsent alerts receiver --port 9095 --log alerts.log   # a local receiver that logs each alert

The rules file defaults to FINSENT_ALERT_RULES (monitor/alerts/rules.example.yaml).
Text that came from outside (headlines, labels, comments, receivers' errors) is
printed through `monitor.contract.printable`, so control characters are escaped.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from kernel.settings import get_settings
from monitor.alerts.durations import parse_duration
from monitor.alerts.rules.config import RulesFile
from monitor.alerts.rules.parse import RulesFileError, check_secrets, load_rules
from monitor.contract import printable

rules_option = click.option("--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                            help="Rules file (default: FINSENT_ALERT_RULES).")


def _load(rules_path: Path, secrets: bool = False) -> RulesFile:
    """The rules file at rules_path (the command passes --rules or FINSENT_ALERT_RULES); exit 2 when invalid."""
    try:
        rules = load_rules(rules_path)
        if secrets:
            check_secrets(rules)
        return rules
    except RulesFileError as error:
        click.echo(str(error), err=True)
        sys.exit(2)


def _session_factory(database_url: str) -> Any:
    from monitor.storage.db import session_factory

    return session_factory(database_url)


class DurationType(click.ParamType):
    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> timedelta:
        try:
            return parse_duration(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


class TimeType(click.ParamType):
    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"expected an ISO 8601 time like 2026-11-01T00:00Z, got {value!r}", param, ctx)
        if moment.tzinfo is None:
            self.fail(f"expected a time with an offset (Z or +01:00), got {value!r}", param, ctx)
        return moment


def _labels(labels: dict[str, Any], leave_out: tuple[str, ...] = ()) -> str:
    return ", ".join(f"{printable(k)}={printable(v)}" for k, v in sorted(labels.items()) if k not in leave_out)


def _sector_lookup() -> Any:
    from monitor.alerts.rules.evaluation import default_sector_lookup

    return default_sector_lookup()


@click.group()
def alerts() -> None:
    """Alert rules, silences, webhook deliveries and replays."""


@alerts.command()
@rules_option
def check(rules_path: Path | None) -> None:
    """Validate a rules file; exit status 2 and file:line messages when invalid."""
    rules = _load(rules_path or get_settings().alert_rules)
    click.echo(f"{rules.source}: OK: {len(rules.rules)} rules, {len(rules.receivers)} receivers, "
               f"{len(rules.inhibit_rules)} inhibit rules")


@alerts.command("list")
@click.option("--status", "statuses", default="pending,firing", show_default=True,
              help="Comma-separated: pending, firing, resolved.")
@click.option("--since", type=DurationType(), default=None, help="Only alerts active within this long, e.g. 1d.")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_alerts(statuses: str, since: timedelta | None, limit: int, as_json: bool) -> None:
    """Alerts, newest first, with their evidence."""
    from monitor.alerts.rules import store

    now = datetime.now(UTC)
    with _session_factory(get_settings().database_url).begin() as session:
        rows = store.list_alerts(session, statuses.split(","), now - since if since else None, limit)
        for row in rows:
            if as_json:
                click.echo(json.dumps({"id": row.id, "status": row.status, "rule": row.rule_name,
                                       "labels": row.labels, "annotations": row.annotations,
                                       "evidence": row.evidence, "starts_at": row.starts_at.isoformat(),
                                       "ends_at": row.ends_at.isoformat() if row.ends_at else None}))
                continue
            z = row.evidence.get("zscore")
            key = _labels(row.labels, ("alertname", "severity")).replace(", ", ",")
            click.echo(f"{row.id:>6} {printable(row.status):<8} {printable(row.severity):<8} "
                       f"{printable(row.rule_name)} {{{key}}} "
                       f"since {row.starts_at:%Y-%m-%d %H:%M}Z value={row.evidence.get('value', float('nan')):.3f} "
                       f"baseline={row.evidence.get('baseline', float('nan')):.3f} "
                       f"z={z if z is None else round(z, 1)}")
            for article in row.evidence.get("top_articles", [])[:3]:
                click.echo(f"         - {printable(article.get('headline', ''))} "
                           f"({printable(str(article.get('id', ''))[:12])})")
        if not rows:
            click.echo("no alerts")


@alerts.command()
@click.option("--match", "match", multiple=True, required=True,
              help="Alertmanager matcher: name=value, name!=value, name=~regex or name!~regex; values may be "
                   "double-quoted (Go quoting), regexes are anchored and RE2-compatible. Repeat for several "
                   "(all must match; several on one label are fine).")
@click.option("--for", "duration", type=DurationType(), required=True, help="How long, e.g. 2h.")
@click.option("--comment", required=True, help="Why (shown to whoever sees the silence).")
@click.option("--author", required=True, help="Who.")
@click.option("--force", is_flag=True, help="Create it even when the matchers would silence every alert.")
@click.option("--dry-run", is_flag=True, help="Only list the alerts it would silence now; store nothing.")
def silence(match: tuple[str, ...], duration: timedelta, comment: str, author: str, force: bool,
            dry_run: bool) -> None:
    """Mute alerts whose labels match, starting now; lists the alerts it mutes first."""
    from monitor.alerts.silences import store
    from monitor.alerts.silences.matchers import describe

    try:  # refused before connecting: a bad silence never needs the database
        matchers = store.silence_matchers(match)
        store.check_silence(matchers, duration, author)
    except store.SilenceError as error:
        raise click.UsageError(str(error)) from None
    now = datetime.now(UTC)
    with _session_factory(get_settings().database_url).begin() as session:
        preview = store.silence_preview(session, matchers)
        count = f"{len(preview)} alert{'s' if len(preview) != 1 else ''}" if preview else "no alert"
        click.echo(f"{printable(describe(matchers))} would silence {count} now{':' if preview else ''}")
        for row in preview:
            click.echo(f"  #{row.id} {printable(row.status)} {printable(row.rule_name)} {{{_labels(row.labels)}}} "
                       f"since {row.starts_at:%Y-%m-%d %H:%M}Z")
        try:
            if dry_run:
                if not force:
                    store.check_not_everything(session, matchers)
                click.echo("dry run: nothing stored")
                return
            silence_id = store.create_silence(session, matchers, duration, author, comment, starts_at=now,
                                              force=force).id
        except store.SilenceError as error:
            raise click.UsageError(str(error)) from None
    click.echo(f"silence {silence_id} until {(now + duration).isoformat(timespec='seconds')}")


@alerts.command()
@click.argument("silence_id", type=int)
def unsilence(silence_id: int) -> None:
    """End silence SILENCE_ID now."""
    from monitor.alerts.silences import store

    with _session_factory(get_settings().database_url).begin() as session:
        if not store.expire_silence(session, silence_id, datetime.now(UTC)):
            click.echo(f"no active silence {silence_id}", err=True)
            sys.exit(1)
    click.echo(f"silence {silence_id} expired")


@alerts.command()
@click.option("--all", "include_expired", is_flag=True, help="Include expired silences.")
def silences(include_expired: bool) -> None:
    """Active (or all) silences."""
    from monitor.alerts.silences import store
    from monitor.alerts.silences.matchers import describe, load_matchers

    with _session_factory(get_settings().database_url).begin() as session:
        rows = store.list_silences(session, datetime.now(UTC), include_expired)
        for row in rows:
            matchers = printable(describe(load_matchers(row.matchers)))
            click.echo(f"{row.id:>5} {matchers} {row.starts_at:%Y-%m-%d %H:%M}Z -> {row.ends_at:%Y-%m-%d %H:%M}Z "
                       f"by {printable(row.created_by)}: {printable(row.comment)}")
        if not rows:
            click.echo("no silences")


@alerts.command()
@click.option("--status", "statuses", default="pending,dead", show_default=True,
              help="Comma-separated: pending, delivered, dead.")
@click.option("--limit", default=50, show_default=True)
def deliveries(statuses: str, limit: int) -> None:
    """Webhook outbox rows: what is waiting, what was delivered, what is dead and why."""
    from monitor.alerts.delivery import store

    with _session_factory(get_settings().database_url).begin() as session:
        rows = store.list_deliveries(session, statuses.split(","), limit)
        for row in rows:
            click.echo(f"{row.id:>6} {row.status:<9} {printable(row.receiver)} {printable(row.payload.get('status'))} "
                       f"alerts={len(row.payload.get('alerts', []))} attempts={row.attempts} "
                       f"next={row.next_attempt_at:%H:%M:%S} error={printable(row.last_error or '-')}")
        if not rows:
            click.echo("no deliveries")


@alerts.command()
@rules_option
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option("--poll", "poll", type=DurationType(), default="1s", show_default=True)
def dispatch(rules_path: Path | None, once: bool, poll: timedelta) -> None:
    """Deliver the webhook outbox (safe to run several side by side)."""
    from monitor.alerts.delivery.dispatcher import Dispatcher

    dispatcher = Dispatcher(_session_factory(get_settings().database_url),
                            _load(rules_path or get_settings().alert_rules, secrets=True))
    if once:
        report = dispatcher.dispatch_once()
        click.echo(json.dumps(report.__dict__))
        return
    try:
        dispatcher.run_forever(threading.Event(), poll.total_seconds())
    except KeyboardInterrupt:
        pass


@alerts.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9095, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port; the URL is printed).")
@click.option("--path", "url_path", default="/alerts", show_default=True, help="URL path alerts are POSTed to.")
@click.option("--secret-env", default=None, metavar="NAME",
              help="Environment variable holding the HMAC secret; then unsigned or badly signed requests get 401.")
@click.option("--log", "log_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also append one line per received alert to this file; the Idempotency-Keys taken are kept in "
                   "FILE.keys, so a restart still refuses replays within the signatures' validity window.")
def receiver(host: str, port: int, url_path: str, secret_env: str | None, log_path: Path | None) -> None:
    """A local webhook receiver: verify, de-duplicate and log each alert (one line each) until stopped."""
    import os
    import signal

    from monitor.alerts.delivery.receiver import AlertReceiver, ReceiverConfig, line_writer

    secret = None
    if secret_env is not None:
        secret = os.environ.get(secret_env)
        if not secret:
            raise click.UsageError(f"--secret-env {secret_env}: that environment variable is not set (or empty); "
                                   f"export the secret the alerter signs with, or leave --secret-env out")
    if not url_path.startswith("/"):
        raise click.BadParameter(f"expected a path starting with /, got {url_path!r}", param_hint="--path")
    log_file = None
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = log_path.open("a", encoding="utf-8")
    emit = line_writer(sys.stdout, *([log_file] if log_file else []))
    try:
        keys_path = log_path.with_name(log_path.name + ".keys") if log_path is not None else None
        server = AlertReceiver(ReceiverConfig(host=host, port=port, path=url_path, secret=secret,
                                              seen_keys_path=keys_path), emit)
    except OSError as error:
        click.echo(f"cannot listen on {host}:{port}: {error.strerror or error}", err=True)
        sys.exit(1)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill` ends it like Ctrl-C
    click.echo(f"receiving alerts on {server.url} (signatures {'required' if secret else 'not checked'})",
               err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        if log_file:
            log_file.close()


@alerts.command()
@rules_option
@click.option("--from", "start", type=TimeType(), required=True, help="ISO 8601 time with offset.")
@click.option("--to", "end", type=TimeType(), required=True, help="ISO 8601 time with offset.")
@click.option("--step", type=DurationType(), default="1m", show_default=True, help="Evaluation step.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def replay(rules_path: Path | None, start: datetime, end: datetime, step: timedelta, as_json: bool) -> None:
    """Run rules over stored history and list what would have fired (nothing is sent or stored)."""
    from monitor.alerts.research.replay import replay as run_replay

    rules = _load(rules_path or get_settings().alert_rules)
    with _session_factory(get_settings().database_url).begin() as session:
        try:
            events = run_replay(session, rules, start, end, step, _sector_lookup())
        except ValueError as error:
            raise click.UsageError(str(error)) from None
    for event in events:
        if as_json:
            click.echo(json.dumps(event.as_dict()))
        else:
            value = "-" if event.value is None else f"{event.value:.3f}"
            z = "-" if event.zscore is None else f"{event.zscore:.1f}"
            click.echo(f"{event.at:%Y-%m-%d %H:%M}Z {event.event:<8} {printable(event.rule)} "
                       f"{printable(event.scope_key)} "
                       f"value={value} z={z}")
    firing = sum(e.event == "firing" for e in events)
    click.echo(f"{firing} alerts would have fired", err=True)


@alerts.command()
@rules_option
@click.option("--events", "events_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Labelled events YAML (docs/alerts.md), e.g. tests/fixtures/events/dev_events.yaml.")
@click.option("--from", "start", type=TimeType(), default=None, help="ISO 8601 time with offset (default: the "
              "day before the first event window).")
@click.option("--to", "end", type=TimeType(), default=None, help="ISO 8601 time with offset (default: the end of "
              "the last event window).")
@click.option("--step", type=DurationType(), default="1h", show_default=True, help="Evaluation step.")
@click.option("--splits", "splits_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Judged-headlines CSV (event_id, split), e.g. tests/fixtures/events/event_headlines.csv: "
              "recall also for events a model was tuned on vs unseen.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report as JSON.")
def backtest(rules_path: Path | None, events_path: Path, start: datetime | None, end: datetime | None,
             step: timedelta, splits_path: Path | None, as_json: bool) -> None:
    """Replay rules over stored history and score them against labelled company events."""
    from kernel.reports import write_json_report
    from model.data.events import EventsFileError, load_events
    from monitor.alerts.research.backtest import load_event_splits, run_backtest, scores_by_split

    rules = _load(rules_path or get_settings().alert_rules)
    try:
        events = load_events(events_path)
        splits = load_event_splits(splits_path) if splits_path else None
    except EventsFileError as error:
        raise click.UsageError(str(error)) from None
    start = start or min(e.window.from_ for e in events) - timedelta(days=1)
    end = end or max(e.window.to for e in events)
    with _session_factory(get_settings().database_url).begin() as session:
        try:
            report = run_backtest(session, rules, events, start, end, step, _sector_lookup())
        except ValueError as error:
            raise click.UsageError(str(error)) from None
    report["events_file"] = str(events_path)
    if splits is not None:
        report["by_split"] = scores_by_split(report, splits)
    path = write_json_report(report, f"alerts-backtest-{Path(rules.source).stem}.json")
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        for event in report["events"]:
            lead = "-" if event["lead_hours"] is None else f"{event['lead_hours']:+.1f}h"
            click.echo(f"{event['outcome']:<12} {event['id']:<45} first alert {event['first_alert_at'] or '-'} "
                       f"lead {lead} (first day: stories in its series {event['first_day_stories']}, "
                       f"headlines naming it {event['first_day_headlines']})")
        summary = {k: report[k] for k in ("recall", "hits", "negative_events", "false_alarms", "positive_controls",
                                          "alerts_per_day", "lead_hours", "lead_by_precision", "same_day_reachable",
                                          "seconds")}
        if splits is not None:
            summary["by_split"] = report["by_split"]
        click.echo(json.dumps(summary))
    click.echo(f"report: {path}", err=True)


def _alertmanager_sink(rules: RulesFile, url: str) -> Any:
    """The Alertmanager sink when url (FINSENT_ALERTMANAGER_URL) is set, else None (the embedded notifier only)."""
    from monitor.alerts.delivery.alertmanager_api import AlertmanagerSink, resend_margin

    if not url:
        return None
    click.echo(f"alerter: also posting alerts to Alertmanager at {url}", err=True)
    return AlertmanagerSink(url, rules.global_.external_url, resend_margin(rules.global_.evaluation_interval))


@click.command()
@rules_option
@click.option("--once", is_flag=True, help="One evaluation (and one dispatch pass), then exit.")
@click.option("--at", "at", type=TimeType(), default=None,
              help="With --once: evaluate as if it were this time (ISO 8601 with offset), e.g. to step a drill "
                   "through stored history. The state it leaves is real; use `alerts replay` to only look.")
@click.option("--dispatch/--no-dispatch", "with_dispatcher", default=True, show_default=True,
              help="Run the webhook dispatcher in this process too.")
def alerter(rules_path: Path | None, once: bool, at: datetime | None, with_dispatcher: bool) -> None:
    """Evaluate alert rules as aggregates update, and deliver notifications."""
    from monitor.alerts.delivery.dispatcher import Dispatcher
    from monitor.alerts.runner import run_forever, run_once

    if at is not None and not once:
        raise click.UsageError("--at only makes sense with --once (the loop always evaluates at the current time)")
    settings = get_settings()
    rules = _load(rules_path or settings.alert_rules, secrets=with_dispatcher)
    factory = _session_factory(settings.database_url)
    sector_of = _sector_lookup()
    sink = _alertmanager_sink(rules, settings.alertmanager_url)
    dispatcher = Dispatcher(factory, rules) if with_dispatcher else None
    if once:
        click.echo(json.dumps(run_once(factory, rules, at, sector_of=sector_of, sink=sink).as_dict()))
        if dispatcher:
            click.echo(json.dumps(dispatcher.dispatch_once().__dict__))
        return
    stop = threading.Event()
    if dispatcher:
        threading.Thread(target=dispatcher.run_forever, args=(stop,), name="dispatcher", daemon=True).start()
    try:
        run_forever(factory, rules, sector_of, stop, sink=sink)
    except KeyboardInterrupt:
        stop.set()
