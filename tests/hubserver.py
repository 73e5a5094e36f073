"""A real Hugging Face-compatible server on loopback for tests and benchmarks: olah serving git repositories.

olah (``pip install olah``, the project's ``dev`` extra) answers the Hub's HTTP API from local git
repositories at ``<mirrors>/models/<org>/<repo>``; it has no write endpoints, so publishing goes into
those repositories with :class:`mdl.hub.gitrepo.GitRepoWriter` and is read back through the server.

>>> with HubServer(tmp_path) as server:                      # doctest: +SKIP
...     hub = HFHub("hf://org/registry", endpoint=server.endpoint, writer=server.writer)
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from mdl.hub.gitrepo import GitRepoWriter


def olah_command() -> list[str] | None:
    """How to start olah, or None when it is not installed."""
    try:
        import olah  # noqa: F401
    except ImportError:
        return None
    exe = Path(sys.executable).with_name("olah-cli")
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("olah-cli")
    return [found] if found else [sys.executable, "-m", "olah.server"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class HubServer:
    """olah on 127.0.0.1 serving the git repositories under ``root/mirrors`` (offline: never upstream)."""

    def __init__(self, root: str | Path, port: int | None = None):
        self.root = Path(root)
        self.mirrors = self.root / "mirrors"
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def writer(self) -> GitRepoWriter:
        """Publishes into the repositories this server serves."""
        return GitRepoWriter(self.mirrors)

    def start(self, timeout: float = 30.0) -> HubServer:
        command = olah_command()
        if command is None:
            raise RuntimeError("olah is not installed (pip install olah, or the project's dev extra)")
        (self.mirrors / "models").mkdir(parents=True, exist_ok=True)
        (self.root / "olah-cache").mkdir(exist_ok=True)
        (self.root / "logs").mkdir(exist_ok=True)
        config = self.root / "olah.toml"
        netloc = f"127.0.0.1:{self.port}"
        config.write_text(
            "[basic]\n"
            f'host = "127.0.0.1"\nport = {self.port}\n'
            f'repos-path = "{self.root / "olah-cache"}"\n'
            f'mirror-netloc = "{netloc}"\nmirror-lfs-netloc = "{netloc}"\n'
            f'mirrors-path = ["{self.mirrors}"]\n'
            "metadata-cache-ttl = 0\n"
            "[accessibility]\noffline = true\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE"))}
        self._log = open(self.root / "olah.out", "ab")
        self.process = subprocess.Popen([*command, "-c", str(config), "--log-path", str(self.root / "logs")],
                                        cwd=self.root, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"olah exited with {self.process.returncode}: {self.log_tail()}")
            if self.ready():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"olah did not answer on {self.endpoint} within {timeout:.0f} s: {self.log_tail()}")

    def ready(self) -> bool:
        """The server answers an API route (``GET /`` answers 500 on olah, so probe a model route)."""
        try:
            urllib.request.urlopen(f"{self.endpoint}/api/models/none/none/revision/main", timeout=1)
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 20) -> str:
        path = self.root / "olah.out"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RequestCounter:
    """Counts the HTTP requests huggingface_hub sends (installed through its client factory)."""

    def __init__(self):
        self.requests: list[str] = []

    def __enter__(self) -> RequestCounter:
        import httpx2
        from huggingface_hub import set_client_factory
        from huggingface_hub.utils._http import hf_request_event_hook

        def record(request) -> None:
            self.requests.append(f"{request.method} {request.url}")

        set_client_factory(lambda: httpx2.Client(event_hooks={"request": [hf_request_event_hook, record]},
                                                 follow_redirects=True, timeout=None))
        return self

    def __exit__(self, *exc: object) -> None:
        from huggingface_hub import set_client_factory
        from huggingface_hub.utils._http import default_client_factory

        set_client_factory(default_client_factory)

    def __len__(self) -> int:
        return len(self.requests)
