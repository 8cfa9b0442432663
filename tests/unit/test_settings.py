"""Settings: defaults, env vars, and errors that name the variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kernel.settings import SettingsError, load_settings


def test_defaults_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.kafka_servers == [s.strip() for s in settings.kafka_bootstrap_servers.split(",")]
    assert settings.device in {"auto", "cpu", "cuda"}


def test_env_var_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSENT_KAFKA_BOOTSTRAP_SERVERS", "a:1,b:2")
    monkeypatch.setenv("FINSENT_DEVICE", "cpu")
    settings = load_settings()
    assert settings.kafka_servers == ["a:1", "b:2"]
    assert settings.device == "cpu"


def test_clients_follow_the_local_services_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("FINSENT_KAFKA_BOOTSTRAP_SERVERS", "FINSENT_DATABASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("FINSENT_KAFKA_PORT", "29092")
    monkeypatch.setenv("FINSENT_POSTGRES_PORT", "56432")
    moved = load_settings()
    assert moved.kafka_servers == ["127.0.0.1:29092"]
    assert moved.database_url == "postgresql+psycopg2://finsent@127.0.0.1:56432/finsent"

    monkeypatch.setenv("FINSENT_KAFKA_BOOTSTRAP_SERVERS", "broker:9092")
    monkeypatch.setenv("FINSENT_DATABASE_URL", "postgresql://analyst@db:5432/news")
    explicit = load_settings()  # a named server wins over the local one's port
    assert explicit.kafka_servers == ["broker:9092"]
    assert explicit.database_url == "postgresql://analyst@db:5432/news"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("FINSENT_KAFKA_PORT", "abc", "FINSENT_KAFKA_PORT"),
        ("FINSENT_KAFKA_PORT", "70000", "less than or equal to 65535"),
        ("FINSENT_DEVICE", "tpu", "'auto', 'cpu' or 'cuda'"),
        ("FINSENT_DATABASE_URL", "sqlite:///x.db", "expected a PostgreSQL URL"),
        ("FINSENT_KAFKA_BOOTSTRAP_SERVERS", "localhost", "expected host:port"),
        ("FINSENT_KAFKA_HEAP", "lots", "FINSENT_KAFKA_HEAP"),
    ],
)
def test_invalid_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str,
                                          expected: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert variable in message
    assert expected in message
    assert repr(value) in message


def test_the_onnx_backend_on_cuda_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSENT_DEVICE", "cuda")
    monkeypatch.setenv("FINSENT_MODEL_BACKEND", "onnx")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "FINSENT_MODEL_BACKEND" in str(raised.value) and "CPU only" in str(raised.value)
    monkeypatch.setenv("FINSENT_DEVICE", "cpu")
    assert load_settings().model_backend == "onnx"


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("FINSENT_METRICS_PORT=9999\n")
    monkeypatch.delenv("FINSENT_METRICS_PORT", raising=False)  # the environment outranks .env
    monkeypatch.chdir(tmp_path)
    assert load_settings().metrics_port == 9999


def test_cli_fails_at_start_naming_the_field() -> None:
    env = {"FINSENT_POSTGRES_PORT": "not-a-port", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "finsent.cli", "stack", "status"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 2
    assert "FINSENT_POSTGRES_PORT" in result.stderr
    assert "Traceback" not in result.stderr
