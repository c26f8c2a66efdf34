"""FTP through the standard library's ftplib: the user and password are the URI's (percent-decoded); a folder is
listed with MLSD, a level of subfolders deep."""

from __future__ import annotations

import ftplib
from urllib.parse import unquote, urlsplit

from reconciler.core.uris import mask
from reconciler.stores import StoreError, StoreReach

_DEPTH = 2  # a backup writes its files straight into its folder; one more level is slack, not a crawl
_TIMEOUT = 30.0


def list_files(uri: str, reach: StoreReach) -> list[str]:
    parts = urlsplit(uri)
    user = unquote(parts.username) if parts.username else "anonymous"
    password = unquote(parts.password) if parts.password else ""
    folder = unquote(parts.path).rstrip("/") or "/"
    host, port = parts.hostname or "", parts.port or 21
    if reach.ftp_server is not None and host not in ("127.0.0.1", "localhost"):
        # The sandbox's stand-in holds another host's files under a folder of that host's name.
        host, port = reach.ftp_server
        folder = f"/{parts.hostname}{folder}"
    connection = ftplib.FTP_TLS() if parts.scheme.lower() == "ftps" else ftplib.FTP()
    try:
        connection.connect(host, port, timeout=_TIMEOUT)
        connection.login(user, password)
        if isinstance(connection, ftplib.FTP_TLS):
            connection.prot_p()
        found = _walk(connection, folder, _DEPTH)
    except ftplib.error_perm as error:
        raise StoreError(f"{mask(uri)}: the FTP server refused ({str(error)[:3]})") from None
    except ValueError:  # ftplib refuses to send a line break (in the user or password)
        raise StoreError(f"{mask(uri)}: its user or password holds a line break, which FTP cannot send") from None
    except (OSError, ftplib.Error) as error:
        raise StoreError(f"{mask(uri)}: cannot list it ({type(error).__name__})") from None
    finally:
        connection.close()
    base = uri.rstrip("/")
    return sorted(f"{base}{path[len(folder.rstrip('/')) :]}" for path in found)


def _walk(connection: ftplib.FTP, folder: str, depth: int) -> list[str]:
    try:
        entries = list(connection.mlsd(folder, facts=["type"]))
    except ftplib.error_perm as error:
        if str(error).startswith("550"):
            return []  # no such folder: nothing was written there
        raise
    files: list[str] = []
    for name, facts in entries:
        kind = facts.get("type", "")
        if kind == "file":
            files.append(f"{folder.rstrip('/')}/{name}")
        elif kind == "dir" and depth > 1:
            files += _walk(connection, f"{folder.rstrip('/')}/{name}", depth - 1)
    return files
