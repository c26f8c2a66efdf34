"""The emulated account as plain JSON-shaped data.

Everything the emulator knows lives in one `WorldData` dict so that the file-backed mode can save and
load it whole; these TypedDicts are our own storage format (snake_case), not API shapes.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

FORMAT_VERSION = 1
WORLD_KIND = "redis-cloud-sandbox-world"

Tier = Literal["pro", "essentials"]
Role = Literal["owner", "viewer"]
JsonObject = dict[str, Any]


class ApiKey(TypedDict):
    name: str
    access_key: str  # sent as x-api-key (the account key)
    secret_key: str  # sent as x-api-secret-key (the user key)
    role: Role


class Options(TypedDict):
    pro_list_includes_backup: bool
    validation_errors: Literal["task", "synchronous"]
    max_concurrent_backups_per_subscription: int
    rate_limit: int
    request_log_limit: int
    # How tags behave where API-NOTES §11 leaves it UNCONFIRMED (issue 12 §3):
    tag_create_existing: Literal["conflict", "overwrite"]  # POST …/tags on an existing key: 409, or a silent update
    tag_keys: Literal["exact", "lowercase"]  # an uppercase key: refused (400), or stored lowercased
    max_tags_per_database: int | None  # None: no cap; Redis Software's is 30
    tag_path_suffix_stripping: bool  # Spring's suffix matching: `…/tags/a.b.c` addresses the key `a.b`
    status_vocabulary: Literal["cloud", "cluster"]
    backup_limit_refusal: Literal["rate-limited", "conflict", "task-error"]
    # How `GET /tasks` answers and how the account processes tasks (API-NOTES §5, §11, UNCONFIRMED):
    tasks_list: Literal["recent", "running"]  # tasks of the past 10 days (the docs), or running ones (the OpenAPI)
    tasks_envelope: Literal["object", "array"]  # `{"tasks": [...]}` (the OpenAPI) or a bare array (redis-cloud-rs)
    task_processing: Literal["concurrent", "one-at-a-time"]  # the docs: "an account processes one task at a time"


class Subscription(TypedDict):
    id: int
    name: str
    tier: Tier
    status: str


class StoredBackup(TypedDict):
    """Backup settings as the server keeps them (the API never reads `storage_type` back)."""

    enabled: bool
    interval: str
    time_utc: str
    storage_type: str
    path: str


class StoredTag(TypedDict):
    value: str
    created_at: float
    updated_at: float


class DataMarker(TypedDict):
    """What the database holds: bumped by every import, so tests can see an overwrite."""

    generation: int
    loaded_from: list[str] | None
    loaded_at: float | None


class Database(TypedDict):
    id: int
    subscription_id: int
    name: str
    status: str
    backup: StoredBackup
    tags: dict[str, StoredTag]
    data: DataMarker
    busy_status: str
    busy_until: float | None
    last_modified: float
    # An Active-Active database: each region's own backup settings, by region name (API-NOTES §1, §11); its
    # `backup` is then unused (off). Absent: a single-region database.
    regions: NotRequired[dict[str, StoredBackup]]


class ErrorObject(TypedDict):
    type: str
    status: str
    description: str


class Effect(TypedDict):
    """What a task does to the world when it completes successfully."""

    kind: Literal["update_backup", "update_regions", "backup_status", "import_status", "none"]
    database_id: int
    backup: NotRequired[StoredBackup]
    regions: NotRequired[dict[str, StoredBackup]]  # update_regions: the regions the PUT changed
    region: NotRequired[str]  # backup_status of one region of an Active-Active database


class Task(TypedDict):
    task_id: str
    command_type: str
    created: float
    received_at: float
    processing_at: float
    done_at: float
    error: ErrorObject | None
    resource_id: int | None
    additional_resource_id: int | None
    resource: JsonObject | None
    effect: Effect
    applied: bool


class BackupRun(TypedDict):
    task_id: str
    subscription_id: int
    database_id: int
    destination: str
    adhoc: bool
    started: float
    ends: float
    failure_reason: NotRequired[str]  # a seeded failed backup (seed `last_backup: {failure_reason: …}`)
    region: NotRequired[str]  # a backup of one region of an Active-Active database


class ImportRun(TypedDict):
    task_id: str
    subscription_id: int
    database_id: int
    source_type: str
    uris: list[str]
    started: float
    ends: float
    outcome: Literal["success", "failed"]
    failure_reason: str | None
    applied: bool


class RateWindow(TypedDict):
    start: float
    count: int


class FaultRecord(TypedDict):
    kind: Literal["rate_limit", "server_error", "slow", "drop", "drop_after", "task_error"]
    remaining: int
    method: str | None
    path: str | None
    status: int
    seconds: float
    error_type: str
    error_status: str
    description: str
    command_type: str | None


class LogEntry(TypedDict):
    time: float
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int | None
    key: str | None
    outcome: str


class WorldData(TypedDict):
    kind: str
    format_version: int
    account_id: int
    api_keys: list[ApiKey]
    options: Options
    timings: dict[str, float]
    subscriptions: list[Subscription]
    databases: list[Database]
    sources: dict[str, Literal["missing", "corrupt"]]
    tasks: list[Task]
    backup_runs: list[BackupRun]
    import_runs: list[ImportRun]
    peak_concurrent_backups: dict[str, int]
    rate_windows: dict[str, RateWindow]
    faults: list[FaultRecord]
    request_log: list[LogEntry]


def default_options() -> Options:
    return {
        # API-NOTES §11: Pro list items very likely carry `backup` (a real staging list page has full items);
        # False is the costly mode, where refresh GETs each Pro database for its backup settings.
        "pro_list_includes_backup": True,
        # UNCONFIRMED (API-NOTES §4, §7): whether validation errors are synchronous 400s or task errors.
        # "most of them for writes arrive inside the task", so "task" is the default.
        "validation_errors": "task",
        "max_concurrent_backups_per_subscription": 4,
        "rate_limit": 400,
        "request_log_limit": 10_000,
        "tag_create_existing": "conflict",
        "tag_keys": "exact",
        "max_tags_per_database": None,
        "tag_path_suffix_stripping": False,
        # UNCONFIRMED (API-NOTES §11): the latest backup/import `status` words. "cloud" is what Cloud fixtures
        # show (backup `in-progress`/`success`, import `importing`/`success`); "cluster" passes the cluster's
        # through (backup `exporting`/`succeeded`, import `importing`/`succeeded`). `failed` in both.
        "status_vocabulary": "cloud",
        # UNCONFIRMED (API-NOTES §3, §11): how a backup beyond the subscription's limit is refused: a 429
        # ("rate-limited", the OpenAPI's "too many resources … concurrently"), a synchronous 409 ("conflict"),
        # or a task ending `processing-error` with DATABASE_BACKUP_FAILED ("task-error").
        "backup_limit_refusal": "rate-limited",
        # UNCONFIRMED (API-NOTES §5, §11): what `GET /tasks` lists ("recent": the past 10 days, most recent update
        # first, as the docs say; "running": only unfinished ones, as the OpenAPI's summary says), its envelope, and
        # whether tasks are processed one at a time per account (DOCS process-lifecycle) or concurrently.
        "tasks_list": "recent",
        "tasks_envelope": "object",
        "task_processing": "concurrent",
    }


def empty_world(account_id: int = 40131) -> WorldData:
    return {
        "kind": WORLD_KIND,
        "format_version": FORMAT_VERSION,
        "account_id": account_id,
        "api_keys": [],
        "options": default_options(),
        "timings": {},
        "subscriptions": [],
        "databases": [],
        "sources": {},
        "tasks": [],
        "backup_runs": [],
        "import_runs": [],
        "peak_concurrent_backups": {},
        "rate_windows": {},
        "faults": [],
        "request_log": [],
    }


def disabled_backup() -> StoredBackup:
    return {"enabled": False, "interval": "", "time_utc": "", "storage_type": "", "path": ""}
