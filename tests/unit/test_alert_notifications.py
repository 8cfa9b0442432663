"""Routing, grouping and timing of notifications; silences and inhibition (pure planner)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from monitor.alerts.delivery.notifications import AlertView, GroupState, NotificationPlan, plan_notifications
from monitor.alerts.delivery.routing import route_at, routes_for
from monitor.alerts.rules.parse import parse_rules
from monitor.alerts.silences.matching import SilenceView

T0 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
RULES = parse_rules("""\
rules:
  - {name: ticker-spike, scope: ticker, window: 15m}
  - {name: sector-spike, scope: sector, window: 15m}
route:
  receiver: team
  group_by: [alertname, ticker, sector]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: {severity: critical}
      receiver: pager
      group_wait: 0s
      continue: true
    - matchers: {severity: critical, team: risk}
      receiver: risk
    - matchers: {severity: info}
      receiver: chat
inhibit_rules:
  - source_matchers: {alertname: sector-spike}
    target_matchers: {scope: ticker}
    equal: [sector]
receivers:
  - {name: team, webhook: {url: "http://127.0.0.1:9/team"}}
  - {name: pager, webhook: {url: "http://127.0.0.1:9/pager"}}
  - {name: risk, webhook: {url: "http://127.0.0.1:9/risk"}}
  - {name: chat, webhook: {url: "http://127.0.0.1:9/chat"}}
""")


def alert(fp: str, *, rule: str = "ticker-spike", status: str = "firing", **labels: str) -> AlertView:
    base = {"alertname": rule, "severity": "warning", "scope": "sector" if rule == "sector-spike" else "ticker"}
    return AlertView(id=abs(hash(fp)) % 1000, fingerprint=fp, rule_name=rule, status=status,
                     labels=base | labels, annotations={"summary": fp}, evidence={}, starts_at=T0,
                     ends_at=T0 + timedelta(minutes=20) if status == "resolved" else None)


def test_routes_first_match_wins_unless_continue() -> None:
    receivers = lambda labels: [r.receiver for r in routes_for(labels, RULES.route)]  # noqa: E731
    assert receivers({"severity": "warning"}) == ["team"]
    assert receivers({"severity": "critical"}) == ["pager"]  # a matched child replaces its parent
    assert receivers({"severity": "critical", "team": "risk"}) == ["pager", "risk"]
    assert receivers({"severity": "info"}) == ["chat"]


def test_child_routes_inherit_unset_options() -> None:
    pager = route_at(RULES.route, "0.0")
    chat = route_at(RULES.route, "0.2")
    assert pager.group_wait == timedelta(0) and pager.group_interval == timedelta(minutes=5)
    assert chat.group_wait == timedelta(seconds=30) and chat.group_by == ("alertname", "ticker", "sector")
    assert route_at(RULES.route, "0.7") is None


def run(firing: list[AlertView], groups: dict, now: datetime, resolved: dict | None = None,
        silences: list[SilenceView] | None = None) -> tuple[NotificationPlan, dict]:
    plan = plan_notifications(RULES, firing, resolved or {}, groups, silences or [], now)
    groups = dict(groups)
    for key in plan.delete_groups:
        groups.pop(key, None)
    for group in plan.upsert_groups:
        groups[(group.receiver, group.group_key)] = group
    return plan, groups


def test_group_wait_then_once_then_repeat_interval_then_resolve_once() -> None:
    acme = alert("fp-acme", ticker="ACME", sector="Industrials")
    plan, groups = run([acme], {}, T0)
    assert plan.notifications == []  # group_wait 30s
    plan, groups = run([acme], groups, T0 + timedelta(seconds=30))
    assert [(n.receiver, n.status, [a.fingerprint for a in n.alerts]) for n in plan.notifications] == [
        ("team", "firing", ["fp-acme"])]
    assert plan.notifications[0].group_labels == {"alertname": "ticker-spike", "ticker": "ACME",
                                                  "sector": "Industrials"}
    for minutes in (1, 10, 60, 239):
        plan, groups = run([acme], groups, T0 + timedelta(seconds=30, minutes=minutes))
        assert plan.notifications == [], minutes  # deduplicated until repeat_interval
    plan, groups = run([acme], groups, T0 + timedelta(seconds=30, hours=4))
    assert len(plan.notifications) == 1  # the reminder
    first_key = plan.notifications[0].idempotency_key
    resolved = replace(acme, status="resolved", ends_at=T0 + timedelta(hours=5))
    plan, groups = run([], groups, T0 + timedelta(hours=5), resolved={"fp-acme": resolved})
    assert [(n.status, [a.status for a in n.alerts]) for n in plan.notifications] == [("resolved", ["resolved"])]
    assert plan.notifications[0].idempotency_key != first_key
    assert groups == {}
    plan, groups = run([], groups, T0 + timedelta(hours=6), resolved={"fp-acme": resolved})
    assert plan.notifications == []  # resolved is sent once


def test_alerts_with_the_same_group_labels_arrive_together() -> None:
    rules = parse_rules(RULES.model_dump_json(by_alias=True).replace(
        '"group_by":["alertname","ticker","sector"]', '"group_by":["alertname"]'))
    storm = [alert(f"fp-{t}", ticker=t) for t in ("ACME", "GLBX", "INIT")]
    plan = plan_notifications(rules, storm, {}, {}, [], T0)
    groups = {(g.receiver, g.group_key): g for g in plan.upsert_groups}
    plan = plan_notifications(rules, storm, {}, groups, [], T0 + timedelta(seconds=30))
    assert [len(n.alerts) for n in plan.notifications] == [3]


def test_a_new_alert_in_a_notified_group_waits_for_group_interval() -> None:
    rules = parse_rules(RULES.model_dump_json(by_alias=True).replace(
        '"group_by":["alertname","ticker","sector"]', '"group_by":["alertname"]'))
    a, b = alert("fp-a", ticker="ACME"), alert("fp-b", ticker="GLBX")
    groups = {}
    for now, firing in ((T0, [a]), (T0 + timedelta(seconds=30), [a])):
        plan = plan_notifications(rules, firing, {}, groups, [], now)
        groups = {(g.receiver, g.group_key): g for g in plan.upsert_groups}
    assert len(plan.notifications) == 1
    plan = plan_notifications(rules, [a, b], {}, groups, [], T0 + timedelta(minutes=2))
    assert plan.notifications == []
    plan = plan_notifications(rules, [a, b], {}, groups, [], T0 + timedelta(seconds=30, minutes=5))
    assert [[x.fingerprint for x in n.alerts] for n in plan.notifications] == [["fp-a", "fp-b"]]


def test_a_silence_mutes_matching_alerts_until_it_expires() -> None:
    acme, globx = alert("fp-acme", ticker="ACME"), alert("fp-globx", ticker="GLBX")
    silence = SilenceView(1, {"ticker": "ACME"}, T0 - timedelta(minutes=1), T0 + timedelta(hours=2))
    _, groups = run([acme, globx], {}, T0, silences=[silence])
    plan, groups = run([acme, globx], groups, T0 + timedelta(minutes=1), silences=[silence])
    assert [n.alerts[0].fingerprint for n in plan.notifications] == ["fp-globx"]
    assert plan.muted == {"fp-acme": "silenced by silence 1"}
    _, groups = run([acme, globx], groups, T0 + timedelta(hours=3), silences=[silence])
    plan, _ = run([acme, globx], groups, T0 + timedelta(hours=3, seconds=30), silences=[silence])
    assert [n.alerts[0].fingerprint for n in plan.notifications] == ["fp-acme"]  # expired: now it is sent


def test_a_firing_sector_alert_inhibits_its_tickers_only() -> None:
    sector = alert("fp-ind", rule="sector-spike", sector="Industrials")
    acme = alert("fp-acme", ticker="ACME", sector="Industrials")
    tech = alert("fp-globx", ticker="GLBX", sector="Technology")
    nosector = alert("fp-nos", ticker="NOSEC")
    _, groups = run([sector, acme, tech, nosector], {}, T0)
    plan, _ = run([sector, acme, tech, nosector], groups, T0 + timedelta(minutes=1))
    sent = sorted(n.alerts[0].fingerprint for n in plan.notifications)
    assert sent == ["fp-globx", "fp-ind", "fp-nos"]
    assert plan.muted == {"fp-acme": "inhibited by an alert matching {'alertname': 'sector-spike'}"}


def test_a_group_that_resolves_before_group_wait_sends_nothing() -> None:
    acme = alert("fp-acme", ticker="ACME")
    _, groups = run([acme], {}, T0)
    plan, groups = run([], groups, T0 + timedelta(seconds=10),
                       resolved={"fp-acme": replace(acme, status="resolved")})
    assert plan.notifications == [] and groups == {}


def test_group_state_round_trip_fields() -> None:
    group = GroupState("team", "{}/0:{}", {}, T0)
    assert group.notified == {} and group.last_notified_at is None


def test_notifications_carry_alertmanagers_route_key_for_the_group_key() -> None:
    critical = alert("fp-acme", severity="critical", team="risk", ticker="ACME")
    first = plan_notifications(RULES, [critical], {}, {}, [], T0)  # pager: group_wait 0s
    groups = {(g.receiver, g.group_key): g for g in first.upsert_groups}
    later = plan_notifications(RULES, [critical], {}, groups, [], T0 + timedelta(seconds=30))
    sent = first.notifications + later.notifications
    assert sorted((n.receiver, n.route_key) for n in sent) == [
        ("pager", '{}/{severity="critical"}'), ("risk", '{}/{severity="critical",team="risk"}')]
