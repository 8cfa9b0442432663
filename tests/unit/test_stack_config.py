"""The local stack's generated config and its port checks (no servers started)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from kernel.settings import load_settings
from monitor.stack.kafka import KafkaPaths, server_properties
from monitor.stack.processes import StackError, ensure_port_free, read_pid


def test_single_node_kraft_properties(tmp_path: Path) -> None:
    settings = load_settings(kafka_port=12345, kafka_controller_port=12346)
    text = server_properties(settings, KafkaPaths(tmp_path))
    for line in (
        "process.roles=broker,controller",
        "controller.quorum.voters=1@127.0.0.1:12346",
        "listeners=PLAINTEXT://127.0.0.1:12345,CONTROLLER://127.0.0.1:12346",
        "offsets.topic.replication.factor=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "group.initial.rebalance.delay.ms=0",
    ):
        assert line in text.splitlines()


def test_port_in_use_names_the_port() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(StackError, match=f"port {port} is already in use.*FINSENT_KAFKA_PORT"):
            ensure_port_free(port, "the Kafka broker", "FINSENT_KAFKA_PORT")


def test_stale_pid_file_reads_as_not_running(tmp_path: Path) -> None:
    pid_file = tmp_path / "x.pid"
    pid_file.write_text("999999999")
    assert read_pid(pid_file) is None
    pid_file.write_text("garbage")
    assert read_pid(pid_file) is None
