"""A real single-node Apache Kafka 4.x broker (KRaft) on 127.0.0.1.

The broker's jars are resolved from Maven Central once (`mvn
dependency:copy-dependencies`) into the cache directory outside the clone,
keyed by Kafka version and the pom's hash. Storage is formatted with
`kafka.tools.StorageTool`, the broker runs as `kafka.Kafka server.properties`,
and readiness is decided by a metadata request, never by sleeping.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kernel.settings import Settings
from monitor.stack.processes import (
    StackError,
    ensure_port_free,
    log_tail,
    pid_alive,
    read_pid,
    stop_pid,
    wait_until,
)

POM_TEMPLATE = Path(__file__).with_name("kafka-broker.pom.xml")

LOG4J2_PROPERTIES = """\
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {log_file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
"""


@dataclass(frozen=True)
class KafkaPaths:
    """Where the local broker keeps its files under the state directory."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def properties(self) -> Path:
        return self.root / "server.properties"

    @property
    def log4j(self) -> Path:
        return self.root / "log4j2.properties"

    @property
    def pid_file(self) -> Path:
        return self.root / "broker.pid"

    @property
    def server_log(self) -> Path:
        return self.root / "server.log"

    @property
    def stdout_log(self) -> Path:
        return self.root / "stdout.log"


def kafka_paths(settings: Settings) -> KafkaPaths:
    return KafkaPaths(settings.state_dir / "kafka")


def java_binary() -> str:
    """The java executable: $JAVA_HOME/bin/java, else java on PATH; must be 17+."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise StackError("java not found: install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless)")
    return java


def jars_dir(settings: Settings) -> Path:
    """The cached broker classpath, resolved with Maven on first use."""
    pom = POM_TEMPLATE.read_text().replace("KAFKA_VERSION", settings.kafka_version)
    key = hashlib.sha256(pom.encode()).hexdigest()[:12]
    target = settings.cache_dir / f"kafka-{settings.kafka_version}-{key}"
    if (target / ".complete").exists():
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError("mvn not found: install Maven (apt-get install maven) to resolve the Kafka jars")
    target.mkdir(parents=True, exist_ok=True)
    (target / "pom.xml").write_text(pom)
    print(f"resolving Apache Kafka {settings.kafka_version} jars from Maven Central into {target} ...", flush=True)
    result = subprocess.run(
        [mvn, "-q", "-B", "-f", str(target / "pom.xml"), "dependency:copy-dependencies",
         "-DincludeScope=runtime", f"-DoutputDirectory={target / 'lib'}"],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise StackError(f"mvn could not resolve Kafka {settings.kafka_version}:\n"
                         f"{result.stdout[-3000:]}{result.stderr[-2000:]}")
    (target / ".complete").touch()
    return target


def server_properties(settings: Settings, paths: KafkaPaths) -> str:
    """Single-node KRaft settings: replication factors of 1, no rebalance delay."""
    port, controller = settings.kafka_port, settings.kafka_controller_port
    return f"""\
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={paths.data}
num.partitions={settings.topic_partitions}
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.retention.hours=168
"""


def _java_command(settings: Settings, paths: KafkaPaths, main_class: str, *args: str) -> list[str]:
    classpath = str(jars_dir(settings) / "lib" / "*")
    return [
        java_binary(), f"-Xmx{settings.kafka_heap}", f"-Xms{settings.kafka_heap}",
        f"-Dlog4j2.configurationFile={paths.log4j}", "-Djava.awt.headless=true",
        "-cp", classpath, main_class, *args,
    ]


def broker_answers(bootstrap: str, timeout_s: float = 5.0) -> bool:
    """True when the broker answers a metadata request (the readiness check)."""
    with _quiet_client_logs():
        return _broker_answers(bootstrap, timeout_s)


@contextmanager
def _quiet_client_logs() -> Iterator[None]:
    """Refused connections are expected while polling a starting broker: don't log them."""
    client_logger = logging.getLogger("kafka")
    previous = client_logger.level
    client_logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        client_logger.setLevel(previous)


def _broker_answers(bootstrap: str, timeout_s: float) -> bool:
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaConfigurationError, KafkaError

    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    except KafkaConfigurationError:
        raise
    except (KafkaError, OSError):
        return False
    try:
        admin.describe_cluster()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()


def _format_storage(settings: Settings, paths: KafkaPaths) -> None:
    if (paths.data / "meta.properties").exists():
        return
    uuid = subprocess.run(_java_command(settings, paths, "kafka.tools.StorageTool", "random-uuid"),
                          capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    result = subprocess.run(
        _java_command(settings, paths, "kafka.tools.StorageTool", "format", "-t", uuid, "-c", str(paths.properties)),
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise StackError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")


def start(settings: Settings, timeout_s: float = 120.0) -> str:
    """Start the broker unless it runs already; return a one-line status."""
    paths = kafka_paths(settings)
    bootstrap = f"127.0.0.1:{settings.kafka_port}"
    pid = read_pid(paths.pid_file)
    if pid is not None:
        wait_until(lambda: broker_answers(bootstrap), timeout_s, "Kafka broker", lambda: pid_alive(pid))
        return f"kafka: already running (pid {pid}) on {bootstrap}"
    ensure_port_free(settings.kafka_port, "the Kafka broker", "FINSENT_KAFKA_PORT")
    ensure_port_free(settings.kafka_controller_port, "the Kafka controller", "FINSENT_KAFKA_CONTROLLER_PORT")
    paths.data.mkdir(parents=True, exist_ok=True)
    paths.properties.write_text(server_properties(settings, paths))
    paths.log4j.write_text(LOG4J2_PROPERTIES.format(log_file=paths.server_log))
    _format_storage(settings, paths)
    with paths.stdout_log.open("ab") as out:
        process = subprocess.Popen(
            _java_command(settings, paths, "kafka.Kafka", str(paths.properties)),
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    paths.pid_file.write_text(str(process.pid))
    try:
        wait_until(lambda: broker_answers(bootstrap), timeout_s, "Kafka broker", lambda: process.poll() is None)
    except StackError as error:
        stop_pid(process.pid, timeout_s=10)
        raise StackError(f"{error}; last lines of {paths.server_log}:\n{log_tail(paths.server_log)}\n"
                         f"{log_tail(paths.stdout_log, 10)}") from None
    return f"kafka: started (pid {process.pid}) on {bootstrap}"


def stop(settings: Settings) -> str:
    """Stop the broker this state directory started; harmless when it is not running."""
    paths = kafka_paths(settings)
    pid = read_pid(paths.pid_file)
    if pid is None:
        paths.pid_file.unlink(missing_ok=True)
        return "kafka: not running"
    stop_pid(pid, timeout_s=60)
    paths.pid_file.unlink(missing_ok=True)
    return f"kafka: stopped (pid {pid})"


def status(settings: Settings) -> str:
    paths = kafka_paths(settings)
    pid = read_pid(paths.pid_file)
    if pid is None:
        return "kafka: not running"
    bootstrap = f"127.0.0.1:{settings.kafka_port}"
    state = "ready" if broker_answers(bootstrap) else "not answering"
    return f"kafka: running (pid {pid}) on {bootstrap}, {state}"
