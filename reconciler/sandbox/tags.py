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
    """409 when the key exists: the OpenAPI's "another resource exists with the new name" (API-NOTES §9)."""
    database = _database(ctx, params)
    body = ctx.body_object()
    key, value = _checked(body.get("key"), body.get("value"))
    if key in database["tags"]:
        raise ApiProblem(409, None, f"Tag {key!r} already exists")
    database["tags"][key] = {"value": value, "created_at": ctx.now, "updated_at": ctx.now}
    return 200, _tag_shape(ctx, params, key, database["tags"][key])


def update_tag(ctx: Context, params: Params) -> Answer:
    database = _database(ctx, params)
    if params.tag_key not in database["tags"]:
        raise ApiProblem(404)
    key, value = _checked(params.tag_key, ctx.body_object().get("value"))
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
        key, value = _checked(item.get("key"), item.get("value"))
        old = database["tags"].get(key)
        created = old["created_at"] if old else ctx.now
        new[key] = {"value": value, "created_at": created, "updated_at": ctx.now}
    database["tags"] = new
    return 200, _tags_shape(ctx, params, database)


def delete_tag(ctx: Context, params: Params) -> Answer:
    database = _database(ctx, params)
    if database["tags"].pop(params.tag_key, None) is None:
        raise ApiProblem(404)
    return 200, {}  # the OpenAPI documents `{"type": "object"}` with no properties


def _database(ctx: Context, params: Params) -> Database:
    return ctx.database(params.tier, params.subscription_id, params.database_id)


def _checked(key: Any, value: Any) -> tuple[str, str]:
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
        "createdAt": iso_utc(tag["created_at"]),
        "updatedAt": iso_utc(tag["updated_at"]),
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
