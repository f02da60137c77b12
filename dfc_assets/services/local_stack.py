"""The embedded default: object store, Zenodo emulator, sample sources and the infrastructure seeder on loopback.

`dfc services --workdir DIR` runs them in the foreground; `dfc demo` and the tests start them in
process. DIR/services.json tells every other process (Dagster, `dfc demo`) where they are.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dfc_assets.seeding.infrastructure import BackgroundSeeder
from dfc_assets.services.ports import PortsTaken, is_free, unused_port
from dfc_assets.services.sample_sources import sample_source_server, seed_sources, wds_base_url
from dfc_assets.services.static_files import BackgroundServer, file_server
from dfc_assets.storage import LocalFolderStore
from dfc_assets.zenodo import ZenodoEmulator

SERVICES_FILE = "services.json"


@dataclass(frozen=True)
class ServiceUrls:
    store_url: str
    store_root: str
    zenodo_url: str
    zenodo_token: str
    sources_url: str
    sources_root: str
    wds_base_url: str
    pid: int
    seeder_peer: str | None = None        # "host:port" of the embedded `dfc seed infrastructure` (magnets' x.pe)

    def write(self, workdir: Path) -> Path:
        path = workdir / SERVICES_FILE
        temp = path.with_suffix(".tmp")
        temp.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        os.chmod(temp, 0o600)
        temp.replace(path)
        return path


class LocalServices:
    def __init__(self, workdir: Path, host: str = "127.0.0.1") -> None:
        self.workdir = Path(workdir).resolve()
        self.host = host
        self.store_root = self.workdir / "store"
        self.sources_root = self.workdir / "sources"
        self.servers: list[BackgroundServer] = []
        self.emulator: ZenodoEmulator | None = None
        self.seeder: BackgroundSeeder | None = None
        self.urls: ServiceUrls | None = None

    def _token(self) -> str:
        path = self.workdir / "zenodo" / ".token"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(24), encoding="utf-8")
            os.chmod(path, 0o600)
        return path.read_text(encoding="utf-8").strip()

    def _ports(self) -> dict[str, int]:
        """Ports are kept across restarts: URLs inside published torrents and records must keep working."""
        path = self.workdir / "ports.json"
        ports = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        missing = [name for name in ("store", "sources", "zenodo", "seeder") if name not in ports]
        if missing:
            for name in missing:
                ports[name] = unused_port(self.host, taken=set(ports.values()))
            path.write_text(json.dumps(ports) + "\n", encoding="utf-8")
        return ports

    def _check_ports(self, ports: dict[str, int]) -> None:
        taken = {name: port for name, port in ports.items() if not is_free(self.host, port)}
        if taken:
            listed = ", ".join(f"{name} {port}" for name, port in taken.items())
            raise PortsTaken(
                f"the local services of {self.workdir} cannot start: port(s) {listed} on {self.host} are in use. They are kept "
                f"in {self.workdir / 'ports.json'} because the torrents and records published from this folder carry "
                f"them; stop what holds them (another `dfc services` or `dfc demo` on this folder?), or delete ports.json "
                f"to start on new ports (URLs published before then stop working)")

    def start(self) -> ServiceUrls:
        self.store_root.mkdir(parents=True, exist_ok=True)
        seed_sources(self.sources_root)
        ports = self._ports()
        self._check_ports(ports)
        store = file_server(self.store_root, self.host, ports["store"]).start()
        sources = sample_source_server(self.sources_root, self.host, ports["sources"]).start()
        self.servers = [store, sources]
        token = self._token()
        self.emulator = ZenodoEmulator(self.workdir / "zenodo", token=token, host=self.host, port=ports["zenodo"])
        self.emulator.start()
        self.seeder = BackgroundSeeder(LocalFolderStore(self.store_root, store.base_url + "/"),
                                       f"{self.host}:{ports['seeder']}").start()
        self.urls = ServiceUrls(
            store_url=store.base_url + "/",
            store_root=str(self.store_root),
            zenodo_url=self.emulator.base_url,
            zenodo_token=token,
            sources_url=sources.base_url,
            sources_root=str(self.sources_root),
            wds_base_url=wds_base_url(sources.base_url),
            pid=os.getpid(),
            seeder_peer=self.seeder.peer,
        )
        self.urls.write(self.workdir)
        return self.urls

    def stop(self) -> None:
        if self.seeder is not None:
            self.seeder.stop()
        if self.emulator is not None:
            self.emulator.stop()
        for server in self.servers:
            server.stop()
        services_file = self.workdir / SERVICES_FILE
        if services_file.exists() and self.urls and json.loads(services_file.read_text()).get("pid") == self.urls.pid:
            services_file.unlink()

    def __enter__(self) -> ServiceUrls:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def running_services(workdir: Path) -> ServiceUrls | None:
    """The services another process runs for this folder, if its services.json answers."""
    path = Path(workdir) / SERVICES_FILE
    if not path.is_file():
        return None
    urls = ServiceUrls(**json.loads(path.read_text(encoding="utf-8")))
    for url in (urls.store_url, urls.zenodo_url, urls.sources_url):
        parts = urlsplit(url)
        try:
            socket.create_connection((parts.hostname, parts.port), timeout=1).close()
        except OSError:
            return None
    return urls
