"""docker-compose.yml stays consistent with the settings object and itself."""

from __future__ import annotations

from pathlib import Path

import yaml

from kernel.settings import ENV_PREFIX, Settings, get_settings
from monitor.alerts.rules.parse import load_rules

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
APP_SERVICES = {"migrate", "worker", "worker-gpu", "alerter", "dashboard", "scheduler"}


def load() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_expected_services_exist() -> None:
    services = load()["services"]
    assert {"kafka", "postgres", *APP_SERVICES} <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka:4.")
    assert services["postgres"]["image"].startswith("postgres:")


def test_every_finsent_variable_is_a_settings_field() -> None:
    fields = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    # Webhook secrets are not settings: the rules file names the variable that holds each one.
    rules = load_rules(get_settings().alert_rules)
    secrets = {receiver.webhook.secret_env for receiver in rules.receivers if receiver.webhook.secret_env}
    for name in APP_SERVICES:
        environment = load()["services"][name]["environment"]
        unknown = {key for key in environment if key.startswith(ENV_PREFIX)} - fields - secrets
        assert not unknown, f"{name}: {unknown} are not settings fields"
        # And the values pass the settings' own validation.
        values = {key[len(ENV_PREFIX):].lower(): value for key, value in environment.items() if key not in secrets}
        Settings(**values)


def test_app_services_wait_for_healthy_dependencies() -> None:
    services = load()["services"]
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["kafka"]["condition"] == "service_healthy"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert "healthcheck" in services["kafka"] and "healthcheck" in services["postgres"]


def test_database_url_matches_postgres_service() -> None:
    services = load()["services"]
    url = services["worker"]["environment"]["FINSENT_DATABASE_URL"]
    postgres = services["postgres"]["environment"]
    assert f"{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}@postgres:5432/{postgres['POSTGRES_DB']}" in url


def test_bootstrap_matches_kafka_listener() -> None:
    services = load()["services"]
    bootstrap = services["worker"]["environment"]["FINSENT_KAFKA_BOOTSTRAP_SERVERS"]
    assert f"PLAINTEXT://{bootstrap}" == services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]


def test_gpu_worker_is_optional_and_reserves_a_gpu() -> None:
    gpu = load()["services"]["worker-gpu"]
    assert gpu["profiles"] == ["gpu"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]
    assert gpu["environment"]["FINSENT_DEVICE"] == "cuda"


def test_named_volumes_are_declared() -> None:
    compose = load()
    declared = set(compose["volumes"])
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared
