"""Users API: admins add people, change roles and passwords, and switch accounts off.

A new password ends the user's browser sessions; switching off also revokes their tokens.
The last active admin cannot be demoted or switched off (422).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, url_for

from annotations.catalogue.users import Role, User, add_user, change_user, get_user, list_users
from annotator.api.contract import operation
from annotator.api.models.users import User as UserOut
from annotator.api.models.users import UserChange, UserInput, UserList
from annotator.auth import current_user, forget_user, role_required
from annotator.errors import RequestError
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
@operation(
    "listUsers",
    summary="List the accounts (admin)",
    tags=("users",),
    responses={200: UserList},
    errors=(403,),
)
def index() -> Response:
    with database().read() as session:
        return jsonify({"users": [_public(u) for u in list_users(session)]})


@bp.post("")
@role_required(Role.admin)
@operation(
    "createUser",
    summary="Add an account (admin)",
    tags=("users",),
    body=UserInput,
    responses={201: UserOut},
    errors=(409,),
    security="write",
    extra={
        "responses": {201: {"headers": {"Location": {"$ref": "#/components/headers/Location"}}}}
    },
)
def create(body: UserInput) -> tuple[Response, int, dict[str, str]]:
    role = Role.parse(body.role)
    with database().write() as session:
        user = add_user(session, body.name, role, body.password)
        payload = _public(user)
    return jsonify(payload), 201, {"Location": url_for("users.index") + f"/{body.name}"}


@bp.patch("/<name>")
@role_required(Role.admin)
@operation(
    "changeUser",
    summary="Change a role or password, or switch an account off or on (admin)",
    tags=("users",),
    body=UserChange,
    responses={200: UserOut},
    errors=(404,),
    security="write",
)
def change(name: str, body: UserChange) -> Response:
    sent = body.model_fields_set
    me = current_user()
    role = Role.parse(body.role or "") if "role" in sent else None
    active = body.active if "active" in sent else None
    password = body.password if "password" in sent else None
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
