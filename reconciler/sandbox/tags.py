"""Database tags, synchronous (API-NOTES §9): `CloudTag` / `CloudTags` shapes from the OpenAPI."""

from __future__ import annotations

import re
from typing import Any

from reconciler.sandbox.context import Answer, Context, Params
from reconciler.sandbox.problems import ApiProblem
from reconciler.sandbox.state import Database, JsonObject, StoredTag
from reconciler.sandbox.timings import iso_utc

# API-NOTES §9: lowercase letters, digits, spaces and - _ . + @ : ; keys 1-64 characters.
# UNCONFIRMED (API-NOTES §9): values at most 128 characters, and that the API enforces the console's rules.
_KEY = re.compile(r"^[a-z0-9 _.+@:-]{1,64}$")
_VALUE = re.compile(r"^[a-z0-9 _.+@:-]{1,128}$")


def list_tags(ctx: Context, params: Params) -> Answer:
    return 200, _tags_shape(ctx, params, _database(ctx, params))


def create_tag(ctx: Context, params: Params) -> Answer:
    """409 when the key exists: the OpenAPI's "another resource exists with the new name" (API-NOTES §9).

    UNCONFIRMED (API-NOTES §11): no public client creates single tags, so `tag_create_existing: overwrite`
    makes the create of an existing key a silent update instead.
    """
    database = _database(ctx, params)
    body = ctx.body_object()
    key, value = _checked(ctx, body.get("key"), body.get("value"))
    existing = database["tags"].get(key)
    if existing is not None:
        if ctx.world["options"]["tag_create_existing"] == "conflict":
            raise ApiProblem(409, None, f"Tag {key!r} already exists")
        existing["value"] = value
        existing["updated_at"] = ctx.now
        return 200, _tag_shape(ctx, params, key, existing)
    _check_room(ctx, database, 1)
    database["tags"][key] = {"value": value, "created_at": ctx.now, "updated_at": ctx.now}
    return 200, _tag_shape(ctx, params, key, database["tags"][key])


def update_tag(ctx: Context, params: Params) -> Answer:
    database = _database(ctx, params)
    path_key = _path_key(ctx, params)
    if path_key not in database["tags"]:
        raise ApiProblem(404)
    key, value = _checked(ctx, path_key, ctx.body_object().get("value"))
    tag = database["tags"][key]
    tag["value"] = value
    tag["updated_at"] = ctx.now
    return 200, _tag_shape(ctx, params, key, tag)


def replace_tags(ctx: Context, params: Params) -> Answer:
    """`PUT …/tags` overwrites every tag of the database (API-NOTES §9)."""
    database = _database(ctx, params)
    items = ctx.body_object().get("tags")
    if not isinstance(items, list):
        raise ApiProblem(400, "BAD_REQUEST", "tags must be a list of {key, value}")
    new: dict[str, StoredTag] = {}
    for item in items:
        if not isinstance(item, dict):
            raise ApiProblem(400, "BAD_REQUEST", "tags must be a list of {key, value}")
        key, value = _checked(ctx, item.get("key"), item.get("value"))
        old = database["tags"].get(key)
        created = old["created_at"] if old else ctx.now
        new[key] = {"value": value, "created_at": created, "updated_at": ctx.now}
    _check_room(ctx, {**database, "tags": {}}, len(new))
    database["tags"] = new
    return 200, _tags_shape(ctx, params, database)


def delete_tag(ctx: Context, params: Params) -> Answer:
    database = _database(ctx, params)
    if database["tags"].pop(_path_key(ctx, params), None) is None:
        raise ApiProblem(404)
    return 200, {}  # the OpenAPI documents `{"type": "object"}` with no properties


def _database(ctx: Context, params: Params) -> Database:
    return ctx.database(params.tier, params.subscription_id, params.database_id)


def _path_key(ctx: Context, params: Params) -> str:
    """The key a `…/tags/{tagKey}` path addresses. With `tag_path_suffix_stripping`, like a Spring server with
    suffix pattern matching, a trailing `.ext` is taken for a file extension (API-NOTES §11)."""
    key = params.tag_key
    if ctx.world["options"]["tag_path_suffix_stripping"] and "." in key:
        key = key.rsplit(".", 1)[0]
    return key.lower() if ctx.world["options"]["tag_keys"] == "lowercase" else key


def _check_room(ctx: Context, database: Database, adding: int) -> None:
    """UNCONFIRMED (API-NOTES §11): Redis Software caps a database at 30 tags; the Cloud's cap is not known."""
    cap = ctx.world["options"]["max_tags_per_database"]
    if cap is not None and len(database["tags"]) + adding > cap:
        raise ApiProblem(400, "BAD_REQUEST", f"A database can have at most {cap} tags")


def _checked(ctx: Context, key: Any, value: Any) -> tuple[str, str]:
    if isinstance(key, str) and ctx.world["options"]["tag_keys"] == "lowercase":
        key = key.lower()  # API-NOTES §11: staging answered `costCenter` with `costcenter`
    if not isinstance(key, str) or not _KEY.match(key):
        raise ApiProblem(400, "BAD_REQUEST", "Tag key must be 1-64 of: lowercase letters, digits, spaces, - _ . + @ :")
    if not isinstance(value, str) or not _VALUE.match(value):
        raise ApiProblem(
            400, "BAD_REQUEST", "Tag value must be 1-128 of: lowercase letters, digits, spaces, - _ . + @ :"
        )
    return key, value


def _tag_shape(ctx: Context, params: Params, key: str, tag: StoredTag, *, with_links: bool = True) -> JsonObject:
    shape: JsonObject = {
        "key": key,
        "value": tag["value"],
        # API-NOTES §11: tag timestamps carry milliseconds (`2024-08-28T08:59:31.966Z`).
        "createdAt": iso_utc(tag["created_at"], micros=True)[:-4] + "Z",
        "updatedAt": iso_utc(tag["updated_at"], micros=True)[:-4] + "Z",
        "links": [],
    }
    if with_links:
        shape["links"] = [{"rel": "self", "type": "GET", "href": _tags_href(ctx, params)}]
    return shape


def _tags_shape(ctx: Context, params: Params, database: Database) -> JsonObject:
    return {
        "accountId": ctx.world["account_id"],
        "tags": [_tag_shape(ctx, params, k, t, with_links=False) for k, t in database["tags"].items()],
        "links": [{"rel": "self", "type": "GET", "href": _tags_href(ctx, params)}],
    }


def _tags_href(ctx: Context, params: Params) -> str:
    prefix = "/fixed" if params.tier == "essentials" else ""
    return f"{ctx.base_url}{prefix}/subscriptions/{params.subscription_id}/databases/{params.database_id}/tags"
