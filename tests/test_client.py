"""The cloud client against the emulator over HTTP: paging, read shapes, retries, errors, tasks, rate limit."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from reconciler.cloud.client import RedisCloudClient
from reconciler.cloud.limiter import RateLimiter
from reconciler.cloud.session import Credentials, RetryPolicy, Session, open_http
from reconciler.core.calls import backup_call, database_path
from reconciler.core.desired import OnDemandBackup, OperationKind, Tier
from reconciler.core.live import LiveBackup, LiveRegion
from reconciler.core.polling import PollPolicy
from reconciler.errors import (
    ApiError,
    ConflictError,
    CredentialsError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    ReconcilerError,
    ServerError,
    TaskFailedError,
    WaitInterrupted,
)
from reconciler.sandbox import (
    SANDBOX_ACCESS_KEY,
    SANDBOX_SECRET_KEY,
    SANDBOX_VIEWER_SECRET_KEY,
    Emulator,
    Fault,
    ManualClock,
)
from tests.support.api_calls import post_backup, post_import, put_settings
from tests.support.clients import Api, MakeApi
from tests.support.examples import CATALOG, GLOBAL, MARKETING, MARKETING_CACHE, ORDERS, ORDERS_AA, PROD_EU, SESSIONS
from tests.support.world import FAST, calls, generated_world

SEED_URIS = ["s3://acme-seeds/orders/orders-1_of_3.rdb.gz"]

# --- paging ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "subscription", "count", "offsets", "last_status"),
    [
        pytest.param(Tier.PRO, 1000001, 250, ["0", "100", "200"], 200, id="pro-short-last-page"),
        pytest.param(Tier.PRO, 1000001, 200, ["0", "100", "200"], 404, id="pro-404-past-the-end"),
        pytest.param(Tier.ESSENTIALS, 2000001, 250, ["0", "100", "200"], 200, id="essentials-short-last-page"),
        pytest.param(Tier.ESSENTIALS, 2000001, 200, ["0", "100", "200"], 200, id="essentials-empty-page"),
    ],
)
def test_list_databases_reads_every_page(
    clock: ManualClock,
    make_api: MakeApi,
    tier: Tier,
    subscription: int,
    count: int,
    offsets: list[str],
    last_status: int,
) -> None:
    world = generated_world(pro=count) if tier is Tier.PRO else generated_world(essentials=count)
    emulator = Emulator(world, clock=clock, timings=FAST)
    listed = list(make_api(emulator).client.list_databases(tier, subscription))

    first = 100000 if tier is Tier.PRO else 200000
    assert [item.database for item in listed] == list(range(first, first + count))
    pages = calls(emulator.request_log(), "GET", "/databases")
    assert [page.query["offset"] for page in pages] == offsets
    assert {page.query["limit"] for page in pages} == {"100"}
    assert pages[-1].status == last_status


def test_list_databases_of_an_unknown_subscription_is_not_found(api: Api) -> None:
    with pytest.raises(NotFoundError) as caught:
        list(api.client.list_databases(Tier.PRO, 9999999))
    assert caught.value.status == 404


# --- read shapes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "subscription", "database", "expected"),
    [
        pytest.param(
            Tier.PRO, PROD_EU, ORDERS, LiveBackup(True, "s3://acme-backups/orders", "every-24-hours", "04:00"), id="pro"
        ),
        # The server keeps "16:00"; the API reports the morning twin, and the client passes it on unchanged.
        pytest.param(
            Tier.PRO,
            PROD_EU,
            SESSIONS,
            LiveBackup(True, "gs://acme-backups-gcs/sessions", "every-12-hours", "04:00"),
            id="pro-12-hour-twin",
        ),
        pytest.param(
            Tier.PRO,
            1234568,
            7654401,
            LiveBackup(True, "s3://acme-backups/analytics", "every-6-hours"),
            id="pro-no-time",
        ),
        # Disabled reads back as empty strings: they become None, not "".
        pytest.param(Tier.PRO, PROD_EU, CATALOG, LiveBackup(False), id="pro-disabled"),
        pytest.param(Tier.ESSENTIALS, MARKETING, MARKETING_CACHE, LiveBackup(False), id="essentials-disabled"),
    ],
)
def test_get_database_reads_backup_settings(
    api: Api, tier: Tier, subscription: int, database: int, expected: LiveBackup
) -> None:
    live = api.client.get_database(tier, subscription, database)
    assert (live.tier, live.subscription, live.database, live.status) == (tier, subscription, database, "active")
    assert live.backup == expected


def test_list_items_carry_backup_only_where_the_api_sends_it(emulator: Emulator, api: Api) -> None:
    emulator.set_options(pro_list_includes_backup=False)
    pro = {item.database: item for item in api.client.list_databases(Tier.PRO, PROD_EU)}
    assert all(item.backup is None for item in pro.values())
    assert pro[ORDERS].name == "orders-prod" and pro[ORDERS].status == "active"

    essentials = {item.database: item for item in api.client.list_databases(Tier.ESSENTIALS, MARKETING)}
    assert essentials[MARKETING_CACHE].backup == LiveBackup(False)

    emulator.set_options(pro_list_includes_backup=True)
    pro = {item.database: item for item in api.client.list_databases(Tier.PRO, PROD_EU)}
    assert pro[SESSIONS].backup == api.client.get_database(Tier.PRO, PROD_EU, SESSIONS).backup


def test_essentials_backup_path_reads_back_as_destination_after_a_put(emulator: Emulator, api: Api) -> None:
    client = api.client
    task = put_settings(client, Tier.ESSENTIALS, MARKETING, MARKETING_CACHE, {"periodicBackupPath": "s3://mkt/b"})
    client.wait_for_task(task, timeout=5)
    client.wait_until_active(Tier.ESSENTIALS, MARKETING, MARKETING_CACHE, timeout=5)
    live = client.get_database(Tier.ESSENTIALS, MARKETING, MARKETING_CACHE)
    assert live.status == "active"
    assert live.backup == LiveBackup(True, "s3://mkt/b", "every-24-hours")


def test_wait_until_active_waits_out_the_transient_status_after_a_put(emulator: Emulator, api: Api) -> None:
    client = api.client
    body = {
        "remoteBackup": {
            "active": True,
            "interval": "every-12-hours",
            "timeUTC": "16:00",
            "storageType": "aws-s3",
            "storagePath": "s3://acme-backups/catalog",
        }
    }
    task = put_settings(client, Tier.PRO, PROD_EU, CATALOG, body)
    assert client.wait_for_task(task, timeout=5).snapshot.status == "processing-completed"
    assert client.get_database(Tier.PRO, PROD_EU, CATALOG).status == "active-change-pending"

    client.wait_until_active(Tier.PRO, PROD_EU, CATALOG, timeout=5)
    live = client.get_database(Tier.PRO, PROD_EU, CATALOG)
    assert live.status == "active"
    assert live.backup == LiveBackup(True, "s3://acme-backups/catalog", "every-12-hours", "04:00")


def test_a_stopped_wait_until_active_reads_nothing(emulator: Emulator, api: Api) -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(WaitInterrupted):
        api.client.wait_until_active(Tier.PRO, PROD_EU, CATALOG, timeout=5, stop=stop)
    assert calls(emulator.request_log(), "GET", f"/subscriptions/{PROD_EU}/databases/{CATALOG}") == []


# --- retries --------------------------------------------------------------------------------------------


def test_a_429_storm_is_waited_out_and_the_read_succeeds(emulator: Emulator, clock: ManualClock, api: Api) -> None:
    emulator.inject(Fault.rate_limit_storm(3))
    started = clock()
    live = api.client.get_database(Tier.PRO, PROD_EU, ORDERS)

    assert live.name == "orders-prod"
    assert api.session.retries == 3 and api.session.requests == 4
    assert len(api.backoffs) == 3
    assert all(delay >= 1.0 for delay in api.backoffs)  # the API's x-rate-limit-retry-after-seconds is a floor
    # Each 429 said `X-Rate-Limit-Remaining: 0` and retry after 1 s: the limiter took the key's budget as spent for
    # exactly that second, which the backoff already waits out; a 429 never costs a whole window (issue 16).
    assert api.limiter.waited == 0 and clock() - started < 10.0
    assert [entry.status for entry in emulator.request_log()] == [429, 429, 429, 200]


def test_429s_beyond_the_retry_budget_raise_rate_limited(emulator: Emulator, make_api: MakeApi) -> None:
    api = make_api(emulator, attempts=3)
    emulator.inject(Fault.rate_limit_storm(10))
    with pytest.raises(RateLimitedError) as caught:
        api.client.get_database(Tier.PRO, PROD_EU, ORDERS)
    assert caught.value.status == 429
    assert len(emulator.request_log()) == 3


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_gateway_error_on_a_get_is_retried(emulator: Emulator, api: Api, status: int) -> None:
    emulator.inject(Fault.server_error(status, count=2, method="GET"))
    assert api.client.get_database(Tier.PRO, PROD_EU, ORDERS).name == "orders-prod"
    assert api.session.retries == 2
    assert [entry.status for entry in emulator.request_log()] == [status, status, 200]


def test_a_500_is_not_retried(emulator: Emulator, api: Api) -> None:
    emulator.inject(Fault.server_error(500, method="GET"))
    with pytest.raises(ServerError) as caught:
        api.client.get_database(Tier.PRO, PROD_EU, ORDERS)
    assert caught.value.status == 500 and "HTTP 500" in str(caught.value)
    assert len(emulator.request_log()) == 1


def test_a_503_that_never_clears_gives_up_naming_the_status(emulator: Emulator, make_api: MakeApi) -> None:
    api = make_api(emulator, attempts=4)
    emulator.inject(Fault.server_error(503, count=99))
    with pytest.raises(ServerError) as caught:
        api.client.get_database(Tier.PRO, PROD_EU, ORDERS)
    assert f"GET /subscriptions/{PROD_EU}/databases/{ORDERS}: HTTP 503" in str(caught.value)
    assert len(emulator.request_log()) == 4


@pytest.mark.parametrize("after_processing", [False, True], ids=["before-processing", "after-processing"])
def test_a_dropped_connection_on_a_get_is_retried(emulator: Emulator, api: Api, after_processing: bool) -> None:
    emulator.inject(Fault.drop(method="GET", after_processing=after_processing))
    assert api.client.get_database(Tier.PRO, PROD_EU, ORDERS).name == "orders-prod"
    assert api.session.retries == 1
    assert len(calls(emulator.request_log(), "GET")) == 2


def test_an_import_whose_connection_drops_after_processing_is_not_sent_again(emulator: Emulator, api: Api) -> None:
    emulator.inject(Fault.drop(method="POST", path="**/import", after_processing=True))
    with pytest.raises(OutcomeUnknownError) as caught:
        post_import(api.client, Tier.PRO, PROD_EU, ORDERS, "aws-s3", SEED_URIS)

    assert caught.value.status is None and "no response" in str(caught.value)
    assert api.session.retries == 0
    assert len(calls(emulator.request_log(), "POST", "/import")) == 1
    assert len(emulator.import_history(ORDERS)) == 1  # it did run, exactly once


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault.drop(method="POST", path="**/backup"), id="dropped-before-an-answer"),
        pytest.param(Fault.server_error(503, method="POST", path="**/backup"), id="503"),
    ],
)
def test_an_on_demand_backup_with_an_unknown_outcome_is_not_sent_again(
    emulator: Emulator, api: Api, fault: Fault
) -> None:
    emulator.inject(fault)
    with pytest.raises(OutcomeUnknownError):
        post_backup(api.client, Tier.PRO, PROD_EU, ORDERS, None)
    assert len(calls(emulator.request_log(), "POST", "/backup")) == 1


def test_an_import_answered_429_was_never_processed_and_is_sent_again(emulator: Emulator, api: Api) -> None:
    emulator.inject(Fault.rate_limit_storm(1))
    task_id = post_import(api.client, Tier.PRO, PROD_EU, ORDERS, "aws-s3", SEED_URIS)
    assert task_id
    assert [entry.status for entry in calls(emulator.request_log(), "POST", "/import")] == [429, 200]
    assert len(emulator.import_history(ORDERS)) == 1


# --- credentials and roles ------------------------------------------------------------------------------


def test_a_wrong_key_is_a_credentials_error_naming_the_status(emulator: Emulator, make_api: MakeApi) -> None:
    api = make_api(emulator, secret_key="not-the-secret-K3y")
    with pytest.raises(CredentialsError) as caught:
        api.client.get_database(Tier.PRO, PROD_EU, ORDERS)
    error = caught.value
    assert isinstance(error, ApiError) and error.status == 401
    assert "HTTP 401" in str(error) and "REDISCLOUD_SECRET_KEY" in str(error)
    assert "not-the-secret-K3y" not in str(error)
    assert len(emulator.request_log()) == 1  # not retried


def test_a_viewer_reads_but_gets_403_on_a_tag_write(emulator: Emulator, make_api: MakeApi) -> None:
    viewer = make_api(emulator, access_key=SANDBOX_ACCESS_KEY, secret_key=SANDBOX_VIEWER_SECRET_KEY).client
    assert {tag.key for tag in viewer.list_tags(Tier.PRO, PROD_EU, ORDERS)} == {"team", "env"}
    with pytest.raises(CredentialsError) as caught:
        viewer.create_tag(Tier.PRO, PROD_EU, ORDERS, "rcr_import_x", "v1 claimed fp:000000000000 at:1")
    assert isinstance(caught.value, ApiError) and caught.value.status == 403
    assert "HTTP 403" in str(caught.value)
    assert emulator.tags(ORDERS) == {"team": "orders", "env": "prod"}


def test_creating_a_tag_that_exists_is_a_conflict(emulator: Emulator, api: Api) -> None:
    created = api.client.create_tag(Tier.PRO, PROD_EU, ORDERS, "rcr_backup_x", "v1 claimed fp:000000000000 at:1")
    assert created.key == "rcr_backup_x" and created.created_at.endswith("Z")
    with pytest.raises(ConflictError) as caught:
        api.client.create_tag(Tier.PRO, PROD_EU, ORDERS, "rcr_backup_x", "v1 done fp:000000000000 at:2")
    assert caught.value.status == 409
    assert emulator.tags(ORDERS)["rcr_backup_x"] == "v1 claimed fp:000000000000 at:1"


# --- tasks ----------------------------------------------------------------------------------------------

# Polls every 10 ms of fake time, the first one pause after the call: at 10, 20, 30, 40, 50 ms (five 404s), then 60.
STEADY = PollPolicy(initial=0.01, maximum=0.01, factor=1.0)


def test_up_to_five_404s_on_a_fresh_task_are_tolerated(emulator: Emulator, make_api: MakeApi) -> None:
    emulator.timings = replace(FAST, fresh_task_404=0.055)
    client = make_api(emulator, poll=STEADY).client
    task = put_settings(client, Tier.PRO, PROD_EU, CATALOG, {"remoteBackup": {"active": False}})

    assert client.wait_for_task(task, timeout=5).snapshot.status == "processing-completed"
    polls = calls(emulator.request_log(), "GET", f"/tasks/{task}")
    assert [entry.status for entry in polls[:6]] == [404] * 5 + [200]


def test_a_sixth_404_on_a_fresh_task_fails(emulator: Emulator, make_api: MakeApi) -> None:
    emulator.timings = replace(FAST, fresh_task_404=0.065)
    client = make_api(emulator, poll=STEADY).client
    task = put_settings(client, Tier.PRO, PROD_EU, CATALOG, {"remoteBackup": {"active": False}})

    with pytest.raises(NotFoundError):
        client.wait_for_task(task, timeout=5)
    assert [entry.status for entry in calls(emulator.request_log(), "GET", f"/tasks/{task}")] == [404] * 6


def test_a_task_ending_in_processing_error_raises_with_the_api_error(emulator: Emulator, api: Api) -> None:
    task = post_import(
        api.client, Tier.PRO, PROD_EU, ORDERS, "aws-s3", ["s3://acme-seeds/orders/orders-missing.rdb.gz"]
    )
    with pytest.raises(TaskFailedError) as caught:
        api.client.wait_for_task(task, timeout=5)
    error = caught.value
    assert error.error_type == "DATABASE_IMPORT_SOURCE_NOT_FOUND"
    assert error.description and "orders-missing.rdb.gz" in error.description
    # It names the task, not an HTTP call (none failed), and is still an ApiError for callers that handle both.
    assert error.subject == f"task {task}" and error.status is None and isinstance(error, ApiError)
    assert str(error).startswith(f"task {task} failed: DATABASE_IMPORT_SOURCE_NOT_FOUND - ")


def test_an_injected_task_failure_carries_type_and_description(emulator: Emulator, api: Api) -> None:
    emulator.inject(
        Fault.task_error(
            "DATABASE_GENERAL_ERROR_BACKUP", command_type="databaseUpdateRequest", description="Disk on fire"
        )
    )
    task = put_settings(api.client, Tier.PRO, PROD_EU, CATALOG, {"remoteBackup": {"active": False}})
    with pytest.raises(TaskFailedError) as caught:
        api.client.wait_for_task(task, timeout=5)
    assert (caught.value.error_type, caught.value.description) == ("DATABASE_GENERAL_ERROR_BACKUP", "Disk on fire")
    assert "DATABASE_GENERAL_ERROR_BACKUP - Disk on fire" in str(caught.value)


def test_latest_backup_status_is_read_through_its_task(emulator: Emulator, api: Api) -> None:
    task = post_backup(api.client, Tier.PRO, PROD_EU, ORDERS, "s3://acme-adhoc/orders")
    api.client.wait_for_task(task, timeout=5)
    api.client.wait_until_active(Tier.PRO, PROD_EU, ORDERS, timeout=5)
    for _ in range(20):
        latest = api.client.latest(OperationKind.BACKUP, Tier.PRO, PROD_EU, ORDERS, timeout=5)
        if latest.status == "success":
            break
    assert latest.status == "success" and latest.time and latest.time.endswith("Z")
    # Backup off: the status task itself fails; that is an answer, not an exception.
    off = api.client.latest(OperationKind.BACKUP, Tier.PRO, PROD_EU, CATALOG, timeout=5)
    assert off.error_type == "DATABASE_BACKUP_DISABLED" and off.status is None


# --- the request budget ---------------------------------------------------------------------------------


def test_the_limiter_never_lets_more_than_n_requests_into_any_window() -> None:
    clock = ManualClock(0.0)
    limiter = RateLimiter(5, window=10.0, clock=clock, sleep=clock.advance)
    times = []
    for _ in range(23):
        limiter.acquire()
        times.append(clock())
        clock.advance(0.5)
    for start in times:
        assert sum(1 for t in times if start <= t < start + 10.0) <= 5
    assert limiter.waited > 0
    assert times[-1] >= 40.0  # 23 requests at 5 per 10 s need four full windows


def test_observe_counts_requests_that_others_made_with_the_key() -> None:
    clock = ManualClock(0.0)
    limiter = RateLimiter(10, window=60.0, clock=clock, sleep=clock.advance)
    limiter.acquire()
    limiter.observe(5)  # the server says 5 left: 4 requests we did not send were made by someone else
    for _ in range(5):
        limiter.acquire()
    assert clock() == 0.0 and limiter.waited == 0
    limiter.acquire()
    assert clock() == 60.0
    limiter.observe(400)  # more budget than we know of never frees what we counted
    assert limiter.waited == 60.0


def test_the_client_slows_down_for_requests_another_pipeline_made(
    emulator: Emulator, clock: ManualClock, make_api: MakeApi
) -> None:
    emulator.set_options(rate_limit=10)
    api = make_api(emulator, limit=10)
    headers = {"x-api-key": SANDBOX_ACCESS_KEY, "x-api-secret-key": "sandbox-owner-secret-key"}
    with httpx.Client(transport=emulator.transport(), base_url="https://sandbox.test/v1", headers=headers) as other:
        for _ in range(7):
            assert other.get("/subscriptions").status_code == 200

    for _ in range(5):
        api.client.get_database(Tier.PRO, PROD_EU, ORDERS)

    assert [entry.status for entry in emulator.request_log()] == [200] * 12  # never a 429
    assert api.session.retries == 0
    assert api.limiter.waited > 0 and clock() >= ManualClock()() + 60.0


# --- a malformed API URL --------------------------------------------------------------------------------


def test_a_url_without_scheme_fails_at_once_naming_the_variable() -> None:
    backoffs: list[float] = []
    http = open_http("api.redislabs.example/v1", Credentials("a-key", "a-secret"))
    with http:
        session = Session(http, retry=RetryPolicy(base_delay=1.0), sleep=backoffs.append)
        with pytest.raises(ApiError) as caught:
            RedisCloudClient(session).get_database(Tier.PRO, PROD_EU, ORDERS)
    assert "REDISCLOUD_URL" in str(caught.value) and "http" in str(caught.value)
    assert backoffs == [] and session.retries == 0


def test_an_unparsable_url_is_a_user_error_not_a_crash() -> None:
    with pytest.raises(ReconcilerError) as caught:
        open_http("http://user:hunter22@[::1/v1", Credentials("a-key", "a-secret"))
    assert "REDISCLOUD_URL" in str(caught.value) and "hunter22" not in str(caught.value)


# --- headers at the HTTP edge ---------------------------------------------------------------------------


def test_every_request_says_its_body_is_json_even_the_bodiless_backup_post(emulator: Emulator) -> None:
    """The official Go client sets `Content-Type: application/json` on every request: "The API expects this"
    (API-NOTES §11). Seen at the HTTP edge, in front of the emulator."""
    seen: list[tuple[str, str, bytes, str | None]] = []

    def edge(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append((request.method, request.url.path, request.content, request.headers.get("content-type")))
        return emulator.handle(request)

    http = open_http("https://sandbox.test/v1", Credentials(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY),
                     transport=httpx.MockTransport(edge))  # fmt: skip
    with http:
        client = RedisCloudClient(Session(http))
        post_backup(client, Tier.PRO, PROD_EU, ORDERS, None)
        post_backup(client, Tier.PRO, PROD_EU, SESSIONS, "s3://acme-adhoc/sessions")
        post_import(client, Tier.PRO, PROD_EU, CATALOG, "aws-s3", ["s3://acme-seeds/catalog.rdb.gz"])
        put_settings(client, Tier.ESSENTIALS, MARKETING, MARKETING_CACHE, {"periodicBackupPath": "s3://mkt/b"})
        client.create_tag(Tier.PRO, PROD_EU, ORDERS, "team-x", "a")
        client.update_tag(Tier.PRO, PROD_EU, ORDERS, "team-x", "b")
        client.delete_tag(Tier.PRO, PROD_EU, ORDERS, "team-x")
        client.get_database(Tier.PRO, PROD_EU, ORDERS)

    bodiless_backup = next(entry for entry in seen if entry[0] == "POST" and entry[1].endswith(f"/{ORDERS}/backup"))
    assert bodiless_backup[2] == b""
    assert [entry[3] for entry in seen] == ["application/json"] * 8
    assert all(status < 400 for status in (entry.status or 500 for entry in emulator.request_log()))


def test_the_api_clock_is_read_from_the_date_of_its_answers(emulator: Emulator, clock: ManualClock, api: Api) -> None:
    """`check` ages a backup on the API's clock: here a year behind this machine's, and it is the one that counts."""
    assert api.session.server_now() is None  # nothing answered yet
    emulator.seed_backup(ORDERS, ago=30 * 3600)
    clock.advance(3600)
    latest = api.client.latest(OperationKind.BACKUP, Tier.PRO, PROD_EU, ORDERS, timeout=5)
    server = api.session.server_now()
    assert server is not None
    assert abs(server.timestamp() - clock()) < 2  # the Date header is to the second
    assert abs(server - datetime.now(UTC)) > timedelta(days=30)
    assert latest.time is not None
    age = server - datetime.fromisoformat(latest.time)
    assert timedelta(hours=31) - timedelta(seconds=2) <= age <= timedelta(hours=31, seconds=2)


# --- Active-Active databases (issue 19) ----------------------------------------------------------------------

# A list page shaped as the real staging one in the Go client's fixtures (API-NOTES §1, §11: GO-T
# active_active_database_test.go `TestAADatabase_List`): no database-wide `backup`, each region its own.
_AA_PAGE = {
    "accountId": 40131,
    "subscription": [
        {
            "subscriptionId": 111,
            "numberOfDatabases": 2,
            "databases": [
                {
                    "databaseId": 1,
                    "name": "aa",
                    "status": "active",
                    "activeActiveRedis": True,
                    "crdbDatabases": [
                        {
                            "provider": "AWS",
                            "region": "us-east-1",
                            "backup": {
                                "enableRemoteBackup": True,
                                "interval": "every-12-hours",
                                "timeUTC": "10:00",
                                "destination": "s3://bucket/path",
                            },
                        },
                        {
                            "provider": "AWS",
                            "region": "eu-west-2",
                            "backup": {"enableRemoteBackup": False, "interval": "", "timeUTC": ""},
                        },
                    ],
                },
                {
                    "databaseId": 2,
                    "name": "aa-partial",
                    "status": "active",
                    "activeActiveRedis": True,
                    "crdbDatabases": [{"provider": "AWS", "region": "us-east-1"}],
                },
            ],
        }
    ],
}


def _answering(body: object) -> RedisCloudClient:
    def edge(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    http = open_http("https://api.test/v1", Credentials("a", "b"), transport=httpx.MockTransport(edge))
    return RedisCloudClient(Session(http))


def test_active_active_list_items_read_each_region_s_backup_and_none_of_their_own() -> None:
    first, partial = list(_answering(_AA_PAGE).list_databases(Tier.PRO, 111))
    assert first.regions == (
        LiveRegion("us-east-1", LiveBackup(True, "s3://bucket/path", "every-12-hours", "10:00")),
        LiveRegion("eu-west-2", LiveBackup(False)),  # "" is unset, not a value
    )
    assert first.backup == LiveBackup(False)
    # A region without its backup object: nothing is guessed; the refresh reads the database on its own.
    assert partial.regions is None and partial.backup is None


def test_an_active_active_get_reads_a_region_without_backup_as_off() -> None:
    item = _AA_PAGE["subscription"][0]["databases"][1]  # type: ignore[index]
    live = _answering(item).get_database(Tier.PRO, 111, 2)
    assert live.active_active and live.regions == (LiveRegion("us-east-1", LiveBackup(False)),)


def test_the_example_active_active_database_and_its_regions_status(emulator: Emulator, api: Api) -> None:
    live = api.client.get_database(Tier.PRO, GLOBAL, ORDERS_AA)
    assert [(r.region, r.backup.time_utc) for r in live.regions or ()] == [
        ("us-east-1", "02:00"),
        ("eu-west-1", "04:00"),
    ]
    listed = {item.database: item for item in api.client.list_databases(Tier.PRO, GLOBAL)}
    assert listed[ORDERS_AA].regions == live.regions
    assert api.client.get_database(Tier.PRO, PROD_EU, ORDERS).regions is None

    api.client.send(backup_call(database_path(Tier.PRO, GLOBAL, ORDERS_AA), OnDemandBackup("x", None, "eu-west-1")))
    for _ in range(20):
        west = api.client.latest(OperationKind.BACKUP, Tier.PRO, GLOBAL, ORDERS_AA, timeout=5, region="eu-west-1")
        if west.status == "success":
            break
    assert west.status == "success"
    east = api.client.latest(OperationKind.BACKUP, Tier.PRO, GLOBAL, ORDERS_AA, timeout=5, region="us-east-1")
    assert east.status is None and east.error_type is None  # never backed up: `{}`
    whole = api.client.latest(OperationKind.BACKUP, Tier.PRO, GLOBAL, ORDERS_AA, timeout=5)
    assert whole.error_type == "ACTIVE_ACTIVE_BACKUP_STATUS_MISSING_REGION_NAME"
    query = [r.query for r in emulator.request_log() if r.method == "GET" and r.path.endswith("/backup")]
    assert {"regionName": "eu-west-1"} in query  # a real query parameter, not part of the path (API-NOTES §3)
