"""The data plane: one real server per emulated database, the storage stand-ins, and the work of imports
and backups. The emulator reaches it only through `hooks.py`.

A failed import leaves the old data: every file is fetched, gunzipped, checked and sized before the
database is touched, so a missing, unreadable, corrupt or too-large source fails with the data intact.
Only a file that passes the check and that the server still refuses while loading leaves it flushed.
UNCONFIRMED (API-NOTES §4 says only that an import overwrites all existing data): we chose the
conservative reading a user can test against, and the one the sandbox can promise.
"""

from __future__ import annotations

import gzip
import logging
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast

from reconciler.sandbox.data import hooks
from reconciler.sandbox.data.binary import ServerBinary, find_server
from reconciler.sandbox.data.copy import parse_redis_uri, probe, replicate
from reconciler.sandbox.data.dump import dump
from reconciler.sandbox.data.errors import DataPlaneError, ImportFailure, SourceDenied, SourceMissing
from reconciler.sandbox.data.load import load
from reconciler.sandbox.data.process import HOST, RedisServer
from reconciler.sandbox.data.rdb import check, unpack
from reconciler.sandbox.data.seeding import Content, DataSeed
from reconciler.sandbox.data.shards import split
from reconciler.sandbox.data.stores import Stores, _safe
from reconciler.sandbox.problems import error_object
from reconciler.sandbox.state import Database, JsonObject, WorldData

log = logging.getLogger("reconciler.sandbox.data")

# The memory limit the emulator's reads show: Pro `datasetSizeInGb: 1`, Essentials `planMemoryLimit: 250` MB.
TIER_MEMORY_LIMIT = {"pro": 1024**3, "essentials": 250 * 1024**2}
LARGER_THAN_LIMIT = "file-larger-than-mem-limit"
# UNCONFIRMED (API-NOTES §4, §11 name no reason for refused credentials): Redis Software's `download-error`.
DOWNLOAD_ERROR = "download-error"
# UNCONFIRMED (API-NOTES §3, §11 name no backup failure reasons): the import vocabulary's catch-all.
BACKUP_FAILED = "general-error"
Outcome = tuple[Literal["success", "failed"], str | None]


@dataclass
class Served:
    server: RedisServer
    memory_limit: int | None
    shards: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)


class DataPlane:
    def __init__(self, root: Path, stores: Stores, binary: ServerBinary | None = None) -> None:
        self.root = root
        self.stores = stores
        self.binary = binary or find_server()
        self.databases: dict[int, Served] = {}
        self.backups_written: list[str] = []
        self._failure_params: dict[str, list[JsonObject]] = {}
        self._backup_failures: dict[str, str] = {}  # task id -> failureReason
        (root / "work").mkdir(parents=True, exist_ok=True)
        self._placing: threading.Thread | None = None
        self._placing_error: Exception | None = None

    # --- life cycle -----------------------------------------------------------------------------

    def start(self, world: WorldData, seed: DataSeed) -> None:
        """A server per database, started in parallel, filled from the seed; sample files placed in the stores."""
        scratch = RedisServer(self.root / "scratch", "", binary=self.binary)
        pending = [scratch]
        for db in world["databases"]:
            wanted = seed.databases.get(db["id"])
            password = wanted.password if wanted and wanted.password else secrets.token_urlsafe(12)
            server = RedisServer(self.root / "databases" / str(db["id"]), password, binary=self.binary)
            self.databases[db["id"]] = Served(
                server, wanted.memory_limit if wanted else None, wanted.shards if wanted else 1
            )
            pending.append(server)
        try:
            for server in pending:
                server.start(wait=False)
            for server in pending:
                server.wait_ready()
            log.info("servers answer")
            for db_id, wanted in seed.databases.items():
                if db_id in self.databases:
                    fill(self.databases[db_id].server, wanted.content)
            log.info("servers filled")
        except BaseException:
            scratch.stop()
            shutil.rmtree(scratch.directory, ignore_errors=True)
            self.stop()
            raise
        # The seed's sample files are written while the API comes up (a third of the start-up); what reads a
        # store (an import) waits for them first, so nothing can see a store without its samples.
        self._placing = threading.Thread(target=self._place_and_clean, args=(scratch, seed), name="samples")
        self._placing.start()

    def _place_and_clean(self, scratch: RedisServer, seed: DataSeed) -> None:
        try:
            self._place_files(scratch, seed)
            log.info("sample files placed")
        except Exception as error:  # noqa: BLE001 - kept for the first import to report, never lost
            self._placing_error = error
            log.error("sample files could not be placed: %s", error)
        finally:
            scratch.stop()
            shutil.rmtree(scratch.directory, ignore_errors=True)

    def samples_placed(self, timeout: float = 60.0) -> None:
        """Wait for the seed's sample files; an import reads the stores only after this."""
        if self._placing is not None:
            self._placing.join(timeout)
        if self._placing_error is not None:
            raise DataPlaneError(f"the seed's sample files could not be placed: {self._placing_error}")

    def stop(self) -> None:
        if self._placing is not None:
            self._placing.join(60)
        for served in self.databases.values():
            served.server.terminate()  # all at once, then wait: stopping is no slower for many servers
        for served in self.databases.values():
            served.server.wait()
        hooks.uninstall(self)

    def pids(self) -> list[int]:
        return [served.server.pid for served in self.databases.values() if served.server.pid]

    def _place_files(self, scratch: RedisServer, seed: DataSeed) -> None:
        client = scratch.client()
        for uri, content in seed.files.items():
            client.flushall()
            fill(scratch, content)
            target = self._temp(Path(uri).name)
            dump(scratch, target, foreground=True)
            self.stores.for_uri(uri).put(uri, target.read_bytes())
            target.unlink()
        for uri in seed.corrupt:
            garbage = b"REDIS0010" + secrets.token_bytes(64)  # a plausible header, then nonsense
            self.stores.for_uri(uri).put(uri, gzip.compress(garbage) if uri.endswith(".gz") else garbage)

    # --- what the emulator asks -----------------------------------------------------------------

    def serves(self, database_id: int) -> bool:
        return database_id in self.databases

    def endpoint(self, database_id: int) -> tuple[str, str] | None:
        served = self.databases.get(database_id)
        if served is None:
            return None
        return f"{HOST}:{served.server.port}", served.server.password

    def failure_params(self, task_id: str) -> list[JsonObject] | None:
        return self._failure_params.get(task_id)

    def judge_import(
        self, world: WorldData, database: Database, source_type: str, uris: Sequence[str]
    ) -> hooks.ImportVerdict:
        served = self.databases[database["id"]]
        if source_type == "redis":
            return self._judge_copy(served, uris[0])
        files: list[Path] = []
        try:
            self.samples_placed()
            expected = 0
            for uri in uris:
                raw = self._temp("download")
                raw.write_bytes(self.stores.for_uri(uri).get(uri))
                rdb = self._temp(Path(uri).name + ".rdb")
                unpack(raw, rdb)
                raw.unlink()
                files.append(rdb)
                check(rdb, self.binary, _safe(uri))
                expected += rdb.stat().st_size
            limit = served.memory_limit or TIER_MEMORY_LIMIT[_tier(world, database)]
            if expected > limit:
                # UNCONFIRMED (API-NOTES §11): how the real service estimates the dataset; we use the RDB bytes.
                raise ImportFailure(
                    LARGER_THAN_LIMIT,
                    f"{expected} bytes expected, {limit} configured",
                    {"bytes_of_expected_dataset": str(expected), "bytes_configured_bdb_limit": str(limit)},
                )
        except SourceMissing as missing:
            _discard(files)
            return hooks.ImportVerdict(error_object("DATABASE_IMPORT_SOURCE_NOT_FOUND", str(missing)))
        except SourceDenied as denied:
            _discard(files)
            log.info("import into %s refused: %s", database["id"], denied)
            return self._failed_verdict(DOWNLOAD_ERROR, {})
        except ImportFailure as failure:
            _discard(files)
            log.info("import into %s failed: %s", database["id"], failure.detail)
            return self._failed_verdict(failure.reason, failure.params)
        except DataPlaneError as problem:
            _discard(files)
            return hooks.ImportVerdict(error_object("DATABASE_IMPORT_FAILED", str(problem)))

        def carry_out(task_id: str) -> Outcome:
            with served.lock:
                try:
                    load(served.server, files)
                except ImportFailure as failure:
                    self._failure_params[task_id] = _params(failure.params)
                    return "failed", failure.reason
                finally:
                    _discard(files)
            return "success", None

        return hooks.ImportVerdict(action=carry_out)

    def _judge_copy(self, served: Served, uri: str) -> hooks.ImportVerdict:
        try:
            host, port, user, password = parse_redis_uri(uri)
            probe(host, port, user, password)
        except SourceMissing as missing:
            return hooks.ImportVerdict(error_object("DATABASE_IMPORT_SOURCE_NOT_FOUND", str(missing)))
        except SourceDenied:
            return self._failed_verdict(DOWNLOAD_ERROR, {})
        except ImportFailure as failure:
            return self._failed_verdict(failure.reason, failure.params)

        def carry_out(task_id: str) -> Outcome:
            with served.lock:
                try:
                    replicate(served.server, uri)
                except (ImportFailure, SourceMissing, SourceDenied) as failure:
                    reason = failure.reason if isinstance(failure, ImportFailure) else DOWNLOAD_ERROR
                    self._failure_params[task_id] = []
                    return "failed", reason
            return "success", None

        return hooks.ImportVerdict(action=carry_out)

    def _failed_verdict(self, reason: str, params: dict[str, str]) -> hooks.ImportVerdict:
        def record(task_id: str) -> Outcome:
            self._failure_params[task_id] = _params(params)
            return "failed", reason

        return hooks.ImportVerdict(outcome="failed", failure_reason=reason, action=record)

    def backup_failure(self, task_id: str) -> str | None:
        return self._backup_failures.get(task_id)

    def backup(
        self, database: Database, destination: str, *, adhoc: bool, at: float, task_id: str | None = None
    ) -> list[str]:
        """One file per shard: `<path>/<name>-<id>-<UTC time>-<i>_of_<n>.rdb.gz` (seed `shards:`, default 1).

        UNCONFIRMED (API-NOTES §3 says only "RDB files, one per shard"): the real file names.
        """
        served = self.databases[database["id"]]
        stamp = datetime.fromtimestamp(at, tz=UTC).strftime("%Y%m%dT%H%M%S%fZ")
        n = served.shards
        base = f"{destination.rstrip('/')}/{database['name']}-{database['id']}-{stamp}"
        uris = [f"{base}-{i}_of_{n}.rdb.gz" for i in range(1, n + 1)]
        full = self._temp("backup.rdb")
        parts = [self._temp(f"shard-{i}.rdb.gz") for i in range(1, n + 1)]
        try:
            with served.lock:
                dump(served.server, full if n > 1 else parts[0])
            if n > 1:
                self._split(full, n, parts)
            for uri, part in zip(uris, parts, strict=True):
                self.stores.for_uri(uri).put(uri, part.read_bytes())
        except (DataPlaneError, SourceDenied, SourceMissing, ImportFailure, OSError) as problem:
            kind = "ad-hoc" if adhoc else "periodic"
            log.warning("%s backup of database %s to %s failed: %s", kind, database["id"], _safe(base), problem)
            if task_id is not None:
                self._backup_failures[task_id] = BACKUP_FAILED
            return []
        finally:
            _discard([full, *parts])
        self.backups_written.extend(uris)
        return uris

    def _split(self, full: Path, shards: int, parts: list[Path]) -> None:
        scratch = RedisServer(self.root / "work" / f"splitter-{secrets.token_hex(4)}", "", binary=self.binary)
        scratch.start()
        try:
            split(full, shards, scratch, parts)
        finally:
            scratch.stop()
            shutil.rmtree(scratch.directory, ignore_errors=True)

    def _temp(self, name: str) -> Path:
        fd, path = tempfile.mkstemp(dir=self.root / "work", suffix="-" + name.replace("/", "_"))
        os.close(fd)
        return Path(path)


def fill(server: RedisServer, content: Content) -> None:
    client = server.client()
    if content.count:
        # DEBUG POPULATE writes `prefix:N` = `value:N` in the server itself: 100,000 keys in ~50 ms.
        cast(Any, client).execute_command("DEBUG", "POPULATE", content.count, content.prefix)
    if content.literal:
        client.mset(content.literal)


def _tier(world: WorldData, database: Database) -> Literal["pro", "essentials"]:
    for sub in world["subscriptions"]:
        if sub["id"] == database["subscription_id"]:
            return sub["tier"]
    return "pro"


def _params(params: dict[str, str]) -> list[JsonObject]:
    return [{"key": key, "value": value} for key, value in params.items()]


def _discard(files: list[Path]) -> None:
    for path in files:
        path.unlink(missing_ok=True)
