"""The page where a signed-in user lists, makes and revokes their own read-only keys.

A new key is shown once, on the page that answers its form (never stored, never redirected
through a URL); the list says each token's name, scope, when it was made and last used.
Revoking one here also drops it from this process's few-second memory of valid sign-ins, so
it fails at once (other worker processes forget it within those seconds).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for

from annotations.catalogue.users import READ_TILES, create_token, list_tokens, revoke_token
from annotator.auth import current_user, forget_token, login_required
from annotator.services import database
from annotator.urls import external_url

bp = Blueprint("access", __name__)
NAME_LIMIT = 80


def _page(
    new_key: str | None = None,
    new_name: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Any:
    user = current_user()
    assert user is not None  # login_required
    with database().read() as session:
        rows = [
            {
                "id": row.id,
                "name": row.name,
                "scope": row.scope,
                "created_at": row.created_at,
                "last_used_at": row.last_used_at,
            }
            for row in list_tokens(session, user)
        ]
    wmts = external_url("wmts.capabilities")
    body = render_template(
        "keys.html",
        keys=rows,
        new_key=new_key,
        new_name=new_name,
        error=error,
        wmts_url=wmts,
        tiles_url=external_url(
            "tiles.tile", image_id="IMAGE", z="Z", x="X", y="Y", fmt="png"
        ).replace("/IMAGE/Z/X/Y.png", "/{image}/{z}/{x}/{y}.png"),
    )
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"  # a new key is on it
    return response


@bp.get("/keys")
@login_required
def keys() -> Any:
    return _page()


@bp.post("/keys")
@login_required
def create() -> Any:
    user = current_user()
    assert user is not None
    name = request.form.get("name", "").strip()
    if not name or len(name) > NAME_LIMIT:
        error = f"Name the key in 1 to {NAME_LIMIT} characters: what it is for."
        return _page(error=error, status=400)
    with database().write() as session:
        key = create_token(session, user, name, READ_TILES)
    return _page(new_key=key, new_name=name, status=201)


@bp.post("/keys/<int:key_id>/revoke")
@login_required
def revoke(key_id: int) -> Any:
    user = current_user()
    assert user is not None
    with database().write() as session:
        row = revoke_token(session, user, key_id)  # 404 for anyone else's
        digest = row.token_sha256
    forget_token(digest)
    return redirect(url_for("access.keys"), code=303)
