"""Model page: registered versions, their evaluation metrics, which one is live, and the next retrain.

Reads the `model_versions` table; also lists the on-disk registry through
model.serving.registry when that module is importable (fail-soft: the page works
without it). The retrain schedule comes from a `retrain_cron` setting when
the settings define one.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import charts, queries, ui

ui.page_header("Model", "Which model scores the stream, how good each version is, and when it retrains.")
url = ui.database_url()
settings = st.session_state.get("settings")


def flatten_metrics(versions: pd.DataFrame) -> pd.DataFrame:
    """One column per numeric metric (nested dicts joined with '.'), beside the version columns."""
    metrics = pd.json_normalize(versions["metrics"].tolist()).set_index(versions.index)
    numeric = metrics.select_dtypes("number")
    return versions.drop(columns=["metrics"]).join(numeric)


def next_retrain(configured: str | None) -> tuple[str, str]:
    """(next fire time, where the schedule comes from): the retrain_cron setting when there is one, else the
    default of `finsent scheduler` (a scheduler started with another --cron is not visible from here)."""
    try:
        from monitor.retrain.schedule import DEFAULT_CRON, next_fire_time
    except Exception as error:  # the retraining package is optional for the dashboard
        return "unknown", f"monitor.retrain is not available ({error.__class__.__name__})"
    cron = configured or DEFAULT_CRON
    source = "FINSENT_RETRAIN_CRON" if configured else "default of `finsent scheduler`"
    try:
        return f"{next_fire_time(cron, datetime.now(UTC)):%Y-%m-%d %H:%M} UTC", f"cron {cron!r}, {source}"
    except Exception as error:  # a bad expression should not take the page down
        return "invalid schedule", str(error)


def registry_rows(registry_dir: Any) -> tuple[pd.DataFrame | None, str | None, str | None]:
    """(versions, live version, problem) from model.serving.registry, or a reason it is unavailable."""
    try:
        from model.serving import registry
    except Exception as error:
        return None, None, f"model.serving.registry is not available ({error.__class__.__name__})"
    try:
        listed = registry.list_versions(registry_dir)
        live = registry.live_version(registry_dir)
    except Exception as error:
        return None, None, f"could not read the registry at {registry_dir}: {error}"
    rows = [dataclasses.asdict(v) if dataclasses.is_dataclass(v) else (v if isinstance(v, dict) else {"version": v})
            for v in listed]
    # Arrow (st.dataframe) takes neither paths nor nested dicts: show them as text.
    rows = [{k: json.dumps(v, default=str) if isinstance(v, (dict, list)) else (str(v) if isinstance(v, Path) else v)
             for k, v in row.items()} for row in rows]
    live_name = getattr(live, "version", live)
    return pd.DataFrame(rows), None if live_name is None else str(live_name), None


def live_disagreement(registry_dir: Any, versions: pd.DataFrame) -> str | None:
    """What to tell the operator when the registry's live pointer (what workers serve) and
    model_versions.is_live (what this page reads) disagree; None when they agree or cannot be read."""
    if registry_dir is None:
        return None
    try:
        from model.serving.registry import live_version
        from monitor.storage.model_versions import compare_live

        table_live = versions.loc[versions["is_live"], "version"].tolist() if not versions.empty else []
        mismatch = compare_live(live_version(registry_dir), table_live)
    except Exception:  # the page works without the registry
        return None
    return None if mismatch is None else f"Out of step: {mismatch.describe()}."


def describe_background(progress: Any, live_profile: str | None) -> tuple[str, str]:
    """(headline, details) of the background training run (monitor.retrain.background) for the panel."""
    profile = f"Live profile: {live_profile or '—'}."
    if progress is None:
        return profile, "No background training run yet (`make run` starts one; FINSENT_BACKGROUND_TRAINING=0 is off)."
    state = progress.state if progress.running or progress.state not in ("training", "evaluating", "starting",
                                                                          "waiting", "gating") else "interrupted"
    parts = [f"{progress.profile} profile: {state}"]
    if progress.max_steps:
        parts.append(f"step {progress.step:,} / {progress.max_steps:,}")
    if progress.best_dev_score is not None:
        parts.append(f"best dev score {progress.best_dev_score:.3f}")
    if progress.eta_s is not None and progress.running:
        minutes = progress.eta_s / 60
        parts.append(f"about {minutes:.0f} min left" if minutes < 120 else f"about {minutes / 60:.1f} h left")
    details = f"{progress.message} · " if progress.message else ""
    updated = progress.updated_at.replace("T", " ")[:19]
    return f"{profile} Background run — {', '.join(parts)}.", f"{details}updated {updated} UTC"


@st.fragment(run_every=30)
def background_panel(registry_dir: Any, state_dir: Any) -> None:
    """Which profile is live and how the background full-profile run is doing (refreshes every 30 s)."""
    try:
        from model.serving.registry import list_versions
        from monitor.retrain.background import PROGRESS_FILE, read_progress
    except Exception as error:  # the dashboard works without the training code
        st.caption(f"Background training status unavailable ({error.__class__.__name__}).")
        return
    live_profile = next((v.profile for v in list_versions(registry_dir) if v.live), None) if registry_dir else None
    progress = read_progress(Path(state_dir) / PROGRESS_FILE) if state_dir else None
    headline, details = describe_background(progress, live_profile)
    st.info(headline, icon=":material/model_training:")
    st.caption(details)


versions = queries.model_versions(url)
live = versions[versions["is_live"]] if not versions.empty else versions
if (disagreement := live_disagreement(getattr(settings, "registry_dir", None), versions)) is not None:
    st.warning(disagreement, icon="⚠️")
columns = st.columns(3)
with columns[0]:
    ui.stat("Live version", live["version"].iloc[0] if not live.empty else "—")
with columns[1]:
    ui.stat("Registered versions", str(len(versions)))
with columns[2]:
    when, schedule_source = next_retrain(getattr(settings, "retrain_cron", None))
    ui.stat("Next retrain", when, f"{schedule_source}. Retraining runs under `finsent scheduler`.")

background_panel(getattr(settings, "registry_dir", None), getattr(settings, "state_dir", None))

if versions.empty:
    ui.empty_state("No model versions recorded yet — train and promote one (`finsent retrain`).")
else:
    table = flatten_metrics(versions)
    metric_names = [c for c in table.columns if c not in versions.columns]
    st.subheader("Versions")
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "is_live": st.column_config.CheckboxColumn("live"),
        "created_at": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm"),
        "promoted_at": st.column_config.DatetimeColumn("promoted", format="YYYY-MM-DD HH:mm"),
        "decision_reason": "decision", **{name: st.column_config.NumberColumn(name, format="%.3f")
                                          for name in metric_names}})
    if metric_names:
        st.subheader("Metrics by version")
        # each task's dev score first (counts and secondary scores are in the list)
        opening = charts.dev_score_columns(metric_names) or metric_names[:4]
        chosen = st.multiselect("Metrics", metric_names, default=opening, key="model_metrics")
        long = table.melt(id_vars=["version", "status", "is_live"], value_vars=chosen, var_name="metric")
        st.altair_chart(alt.Chart(long).mark_bar().encode(
            y=alt.Y("version:N", sort=table["version"].tolist(), title=None, axis=alt.Axis(labelLimit=220)),
            x=alt.X("value:Q", title=None),
            color=alt.Color("is_live:N", title="live", scale=alt.Scale(domain=[True, False],
                                                                          range=["#27ae60", "#95a5a6"])),
            column=alt.Column("metric:N", title=None),
            tooltip=["version:N", "metric:N", alt.Tooltip("value:Q", format=".3f"), "status:N"],
        ).properties(width=220, height=32 * len(table)))

st.subheader("Registry on disk")
registry_dir = getattr(settings, "registry_dir", None)
listed, live_on_disk, problem = registry_rows(registry_dir)
if problem:
    st.caption(problem)
elif listed is None or listed.empty:
    st.caption(f"No versions under {registry_dir}.")
else:
    st.caption(f"{registry_dir} · live: {live_on_disk or '—'}")
    st.dataframe(listed, hide_index=True, width="stretch")
