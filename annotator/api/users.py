"""Users API: admins add people, change roles and passwords, and switch accounts off.

A new password ends the user's browser sessions; switching off also revokes their tokens.
The last active admin cannot be demoted or switched off (422).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, url_for

from annotations.catalogue.users import Role, User, add_user, change_user, get_user, list_users
from annotator.auth import current_user, forget_user, role_required
from annotator.errors import RequestError
from annotator.forms import json_body, text_field
from annotator.services import database

bp = Blueprint("users", __name__, url_prefix="/api/v1/users")


def _public(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role.name,
        "active": user.active,
        "created_at": user.created_at.isoformat().replace("+00:00", "Z"),
    }


@bp.get("")
@role_required(Role.admin)
def index() -> Response:
    with database().read() as session:
        return jsonify({"users": [_public(u) for u in list_users(session)]})


@bp.post("")
@role_required(Role.admin)
def create() -> tuple[Response, int, dict[str, str]]:
    body = json_body()
    name = text_field(body, "name", required=True) or ""
    role = Role.parse(text_field(body, "role", required=True) or "")
    password = text_field(body, "password", required=True)
    with database().write() as session:
        user = add_user(session, name, role, password)
        payload = _public(user)
    return jsonify(payload), 201, {"Location": url_for("users.index") + f"/{name}"}


@bp.patch("/<name>")
@role_required(Role.admin)
def change(name: str) -> Response:
    body = json_body()
    me = current_user()
    role = None
    if "role" in body:
        role = Role.parse(text_field(body, "role", required=True) or "")
    active = body.get("active")
    if "active" in body and not isinstance(active, bool):
        raise RequestError("'active' must be true or false", status=422, code="invalid")
    password = text_field(body, "password", required=True) if "password" in body else None
    with database().write() as session:
        user = get_user(session, name)
        if me is not None and me.id == user.id and active is False:
            raise RequestError("you cannot switch off your own account", status=422, code="invalid")
        change_user(session, user, role=role, active=active, password=password)
        payload = _public(user)
        user_id = user.id
    if active is False or password is not None:
        forget_user(user_id)  # this worker's tile cache; others forget within seconds
    return jsonify(payload)
