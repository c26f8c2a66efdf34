"""Stand-ins for the GitHub and GitLab REST APIs, the few endpoints the CI examples call, over real HTTP on
127.0.0.1: the examples' curl steps run here as they run in CI, and a test reads what they left behind (the one
comment, the issue, which artifact was fetched) instead of trusting the shell."""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any  # the JSON sent, if any


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any = None  # JSON, or bytes sent as they are
    location: str | None = None


Handler = Callable[[Call, re.Match[str]], Answer]


class Forge:
    """Routes of (method, path pattern) to handlers; a call to a route that is not public must carry
    `header: token`, as the real APIs ask."""

    def __init__(self, header: str, token: str) -> None:
        self.header, self.token = header, token
        self.calls: list[Call] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []
        self.url = ""

    def route(self, method: str, pattern: str, handler: Handler, *, public: bool = False) -> None:
        self._routes.append((method, re.compile(pattern + "$"), handler, public))

    def answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Answer:
        parts = urlsplit(target)
        call = Call(method, parts.path, parse_qs(parts.query), json.loads(raw) if raw else None)
        self.calls.append(call)
        for wanted, pattern, handler, public in self._routes:
            match = pattern.match(parts.path)
            if wanted == method and match:
                if not public and headers.get(self.header.lower()) != self.token:
                    return Answer(401, {"message": f"{self.header} missing or wrong"})
                return handler(call, match)
        return Answer(404, {"message": f"no route for {method} {parts.path}"})

    @contextmanager
    def serve(self) -> Iterator[str]:
        forge = self

        class _Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {key.lower(): value for key, value in self.headers.items()}
                result = forge.answer(self.command, self.path, headers, raw)
                data = result.body if isinstance(result.body, bytes) else json.dumps(result.body).encode()
                self.send_response(result.status)
                if result.location:
                    self.send_header("Location", forge.url + result.location)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = _any

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            yield self.url
        finally:
            server.shutdown()
            server.server_close()


def zipped(files: dict[str, bytes]) -> bytes:
    """An artifact as GitHub serves it: a zip of the uploaded files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@dataclass
class Run:
    id: int
    name: str
    event: str
    head_sha: str
    status: str = "success"
    artifacts: dict[str, bytes] = field(default_factory=dict)  # name -> zip


class FakeGitHub(Forge):
    """Issue comments, issues, the pull requests of a commit, workflow runs and their artifacts."""

    TOKEN = "ghs_fake-token"

    def __init__(self, repo: str = "acme/platform") -> None:
        super().__init__("Authorization", f"Bearer {self.TOKEN}")
        self.repo = repo
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.issues: list[dict[str, Any]] = []
        self.pulls_of_commit: dict[str, list[dict[str, Any]]] = {}
        self.runs: list[Run] = []
        self._ids = iter(range(1000, 10**6))
        base = f"/repos/{re.escape(repo)}"
        self.route("GET", base + r"/issues/(\d+)/comments", self._list_comments)
        self.route("POST", base + r"/issues/(\d+)/comments", self._add_comment)
        self.route("PATCH", base + r"/issues/comments/(\d+)", self._edit_comment)
        self.route("GET", base + r"/issues", self._list_issues)
        self.route("POST", base + r"/issues", self._open_issue)
        self.route("PATCH", base + r"/issues/(\d+)", self._edit_issue)
        self.route("GET", base + r"/commits/(\w+)/pulls", lambda c, m: Answer(200, self.pulls_of_commit.get(m[1], [])))
        self.route("GET", base + r"/actions/runs", self._list_runs)
        self.route("GET", base + r"/actions/runs/(\d+)/artifacts", self._list_artifacts)
        self.route("GET", base + r"/actions/artifacts/(\d+)/zip", lambda c, m: Answer(302, b"", f"/blob/{m[1]}"))
        self.route("GET", r"/blob/(\d+)", self._blob, public=True)  # a pre-signed storage URL, as GitHub's redirect

    def merged(self, merge_sha: str, number: int, head_sha: str) -> None:
        self.pulls_of_commit[merge_sha] = [
            {"number": number, "merged_at": "2026-12-01T10:00:00Z", "head": {"sha": head_sha}}
        ]

    def _list_comments(self, call: Call, match: re.Match[str]) -> Answer:
        return Answer(200, self.comments.get(int(match[1]), []))

    def _add_comment(self, call: Call, match: re.Match[str]) -> Answer:
        comment = {"id": next(self._ids), "body": call.body["body"]}
        self.comments.setdefault(int(match[1]), []).append(comment)
        return Answer(201, comment)

    def _edit_comment(self, call: Call, match: re.Match[str]) -> Answer:
        for comment in (c for comments in self.comments.values() for c in comments):
            if comment["id"] == int(match[1]):
                comment["body"] = call.body["body"]
                return Answer(200, comment)
        return Answer(404, {"message": "Not Found"})

    def _list_issues(self, call: Call, match: re.Match[str]) -> Answer:
        state = call.query.get("state", ["open"])[0]
        return Answer(200, [issue for issue in self.issues if state in ("all", issue["state"])])

    def _open_issue(self, call: Call, match: re.Match[str]) -> Answer:
        issue = {"number": next(self._ids), "state": "open", **call.body}
        self.issues.append(issue)
        return Answer(201, issue)

    def _edit_issue(self, call: Call, match: re.Match[str]) -> Answer:
        issue = next(i for i in self.issues if i["number"] == int(match[1]))
        issue.update(call.body)
        return Answer(200, issue)

    def _list_runs(self, call: Call, match: re.Match[str]) -> Answer:
        wanted = {key: values[0] for key, values in call.query.items()}
        runs = [
            {"id": run.id, "name": run.name, "event": run.event, "head_sha": run.head_sha, "status": run.status}
            for run in sorted(self.runs, key=lambda r: -r.id)  # newest first, as GitHub lists them
            if all(wanted.get(key, value) == value for key, value in (("event", run.event), ("head_sha", run.head_sha)))
            and wanted.get("status", run.status) == run.status
        ]
        return Answer(200, {"total_count": len(runs), "workflow_runs": runs})

    def _list_artifacts(self, call: Call, match: re.Match[str]) -> Answer:
        """An artifact's id is its run's id times 100 plus its place in the run (run 102's first is 10200)."""
        run = next(r for r in self.runs if r.id == int(match[1]))
        found = [
            {
                "id": run.id * 100 + i,
                "name": name,
                "expired": False,
                "archive_download_url": f"{self.url}/repos/{self.repo}/actions/artifacts/{run.id * 100 + i}/zip",
            }
            for i, name in enumerate(run.artifacts)
            if name in call.query.get("name", [name])
        ]
        return Answer(200, {"total_count": len(found), "artifacts": found})

    def _blob(self, call: Call, match: re.Match[str]) -> Answer:
        run_id, index = divmod(int(match[1]), 100)
        run = next(r for r in self.runs if r.id == run_id)
        return Answer(200, list(run.artifacts.values())[index])


@dataclass
class Pipeline:
    id: int
    sha: str
    status: str = "success"
    jobs: dict[str, tuple[int, str, dict[str, bytes]]] = field(default_factory=dict)  # name -> id, status, files


class FakeGitLab(Forge):
    """Merge requests, their notes and pipelines, pipeline jobs and their artifacts (API v4)."""

    TOKEN = "glpat-fake-token"

    def __init__(self, project: int = 42) -> None:
        super().__init__("PRIVATE-TOKEN", self.TOKEN)
        self.project = project
        self.merge_requests: dict[int, dict[str, Any]] = {}  # iid -> {iid, sha, state}
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.pipelines: dict[int, list[Pipeline]] = {}  # merge request iid -> pipelines, oldest first
        self.merge_requests_of_commit: dict[str, list[int]] = {}
        self._ids = iter(range(5000, 10**6))
        base = rf"/api/v4/projects/{project}"
        self.route("GET", base + r"/merge_requests/(\d+)", lambda c, m: Answer(200, self.merge_requests[int(m[1])]))
        self.route(
            "GET", base + r"/merge_requests/(\d+)/notes", lambda c, m: Answer(200, self.notes.get(int(m[1]), []))
        )
        self.route("POST", base + r"/merge_requests/(\d+)/notes", self._add_note)
        self.route("PUT", base + r"/merge_requests/(\d+)/notes/(\d+)", self._edit_note)
        self.route("GET", base + r"/repository/commits/(\w+)/merge_requests", self._merge_requests_of)
        self.route("GET", base + r"/merge_requests/(\d+)/pipelines", self._list_pipelines)
        self.route("GET", base + r"/pipelines/(\d+)/jobs", self._list_jobs)
        self.route("GET", base + r"/jobs/(\d+)/artifacts/(.+)", self._artifact)

    def _add_note(self, call: Call, match: re.Match[str]) -> Answer:
        note = {"id": next(self._ids), "body": call.body["body"]}
        self.notes.setdefault(int(match[1]), []).append(note)
        return Answer(201, note)

    def _edit_note(self, call: Call, match: re.Match[str]) -> Answer:
        note = next(n for n in self.notes.get(int(match[1]), []) if n["id"] == int(match[2]))
        note["body"] = call.body["body"]
        return Answer(200, note)

    def _merge_requests_of(self, call: Call, match: re.Match[str]) -> Answer:
        return Answer(200, [self.merge_requests[iid] for iid in self.merge_requests_of_commit.get(match[1], [])])

    def _list_pipelines(self, call: Call, match: re.Match[str]) -> Answer:
        pipelines = reversed(self.pipelines.get(int(match[1]), []))  # newest first, as GitLab lists them
        return Answer(200, [{"id": p.id, "sha": p.sha, "status": p.status} for p in pipelines])

    def _pipeline(self, pipeline_id: int) -> Pipeline:
        return next(p for ps in self.pipelines.values() for p in ps if p.id == pipeline_id)

    def _list_jobs(self, call: Call, match: re.Match[str]) -> Answer:
        scope = call.query.get("scope[]")
        jobs = self._pipeline(int(match[1])).jobs
        listed = [{"id": i, "name": n, "status": s} for n, (i, s, _) in jobs.items() if scope is None or s in scope]
        return Answer(200, listed)

    def _artifact(self, call: Call, match: re.Match[str]) -> Answer:
        for job_id, _, files in (job for ps in self.pipelines.values() for p in ps for job in p.jobs.values()):
            if job_id == int(match[1]) and match[2] in files:
                return Answer(200, files[match[2]])
        return Answer(404, {"message": "404 Not Found"})
