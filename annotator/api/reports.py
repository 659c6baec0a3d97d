"""Reports API: reports, their claims, publishing, and the story outputs of a publication."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from annotations.catalogue.users import Role
from annotations.newsroom import publishing, reports, signing
from annotations.newsroom.links import find_links
from annotator import services, story
from annotator.auth import actor, login_required, role_required
from annotator.errors import RequestError
from annotator.forms import json_body
from annotator.services import database

bp = Blueprint("reports", __name__, url_prefix="/api/v1/reports")
#: the public key that checks the evidence bundles' signatures: public, like the key itself
signing_bp = Blueprint("signing", __name__, url_prefix="/api/v1")


def role() -> Role:
    return actor().role


def images_dir() -> Path:
    return Path(current_app.config["IMAGES_DIR"])


def report_body(report: reports.Report, session: Any) -> dict[str, Any]:
    body = report.to_dict()
    body["claims"] = [c.to_dict() for c in reports.claims_of(session, [report.id])]
    body["links"] = [
        link.to_dict() for link in find_links(session, report_id=report.id, role=role())
    ]
    body["publications"] = [p.to_dict() for p in publishing.publications_of(session, report)]
    body["embed_url"] = (
        url_for("embed.embed", token=report.embed_token, _external=False)
        if report.embed_token and report.status == "published"
        else None
    )
    return body


@bp.get("")
@login_required
def index() -> Response:
    with database().read() as session:
        found = reports.list_reports(session, role())
        return jsonify({"reports": [r.to_dict() | {"text": None} for r in found]})


@bp.post("")
@role_required(Role.editor)
def create() -> tuple[Response, int, dict[str, str]]:
    data = reports.parse_report(json_body())
    with database().write() as session:
        report = reports.create_report(session, data, actor())
        body = report_body(report, session)
    return jsonify(body), 201, {"Location": url_for("reports.show", report_id=body["id"])}


@bp.get("/<report_id>")
@login_required
def show(report_id: str) -> Response:
    with database().read() as session:
        return jsonify(report_body(reports.get_report(session, report_id, role()), session))


@bp.route("/<report_id>", methods=["PUT", "PATCH"])
@role_required(Role.editor)
def edit(report_id: str) -> Response:
    body = json_body()
    with database().write() as session:
        report = reports.get_report(session, report_id, role(), for_update=True)
        base = reports.as_input(report) if request.method == "PATCH" else None
        data = reports.parse_report(body, base=base)
        reports.update_report(session, report, data, actor())
        return jsonify(report_body(report, session))


@bp.delete("/<report_id>")
@role_required(Role.editor)
def remove(report_id: str) -> Response:
    with database().write() as session:
        report = reports.get_report(session, report_id, role(), for_update=True)
        reports.delete_report(session, report, actor())
        return jsonify({"deleted": report.id})


@bp.get("/<report_id>/history")
@login_required
def history(report_id: str) -> Response:
    """Every change to the report, its claims, its links and its publications."""
    with database().read() as session:
        report = reports.get_report(session, report_id, role())
        found = publishing.history_of(session, report)
        return jsonify({"report": report.id, "changes": [c.to_dict() for c in found]})


# ---- claims


@bp.get("/<report_id>/claims")
@login_required
def claims(report_id: str) -> Response:
    with database().read() as session:
        report = reports.get_report(session, report_id, role())
        return jsonify({"claims": [c.to_dict() for c in reports.claims_of(session, [report.id])]})


@bp.post("/<report_id>/claims")
@role_required(Role.editor)
def create_claim(report_id: str) -> tuple[Response, int, dict[str, str]]:
    exact, prefix, suffix = reports.parse_selector(json_body())
    with database().write() as session:
        report = reports.get_report(session, report_id, role(), for_update=True)
        claim = reports.create_claim(session, report, exact, prefix, suffix, actor())
        body = claim.to_dict()
    location = url_for("reports.show_claim", report_id=report_id, claim_id=body["id"])
    return jsonify(body), 201, {"Location": location}


@bp.get("/<report_id>/claims/<claim_id>")
@login_required
def show_claim(report_id: str, claim_id: str) -> Response:
    with database().read() as session:
        report = reports.get_report(session, report_id, role())
        claim = reports.get_claim(session, report, claim_id)
        body = claim.to_dict()
        body["links"] = [
            link.to_dict() for link in find_links(session, claim_id=claim.id, role=role())
        ]
        return jsonify(body)


@bp.delete("/<report_id>/claims/<claim_id>")
@role_required(Role.editor)
def remove_claim(report_id: str, claim_id: str) -> Response:
    with database().write() as session:
        report = reports.get_report(session, report_id, role())
        claim = reports.get_claim(session, report, claim_id)
        if find_links(session, claim_id=claim.id, role=role()):
            raise RequestError(
                "this claim has links; remove them first", status=409, code="conflict"
            )
        reports.delete_claim(session, claim, actor())
        return jsonify({"deleted": claim.id})


# ---- publishing and the outputs


@bp.post("/<report_id>/publish")
@role_required(Role.editor)
def publish(report_id: str) -> tuple[Response, int, dict[str, str]]:
    labels = services.taxonomy()
    with database().write() as session:
        report = reports.get_report(session, report_id, role(), for_update=True)
        publication = publishing.publish(session, report, actor(), images_dir(), labels)
        body = publication.to_dict()
        body["embed_url"] = url_for("embed.embed", token=report.embed_token)
    location = url_for("reports.publication", report_id=report_id, number=body["number"])
    return jsonify(body), 201, {"Location": location}


@bp.get("/<report_id>/publications")
@login_required
def publications(report_id: str) -> Response:
    with database().read() as session:
        report = reports.get_report(session, report_id, role())
        found = publishing.publications_of(session, report)
        return jsonify({"publications": [p.to_dict() for p in found]})


@bp.get("/<report_id>/publications/<int:number>")
@login_required
def publication(report_id: str, number: int) -> Response:
    """The frozen evidence, exactly as published (its sha256 is in the ETag)."""
    with database().read() as session:
        report = reports.get_report(session, report_id, role())
        found = publishing.get_publication(session, report, number)
        response = Response(found.evidence_json, mimetype="application/json")
        response.set_etag(found.sha256)
        response.headers["X-Content-SHA256"] = found.sha256
        return response


def _frozen(report_id: str) -> tuple[publishing.Publication, Any]:
    number = request.args.get("publication")
    if number is not None and not number.isdigit():
        raise RequestError("publication must be a publication number", status=400)
    with database().read() as session:
        report = reports.get_report(session, report_id, role())
        found = publishing.get_publication(session, report, int(number) if number else None)
    return found, publishing.frozen_evidence(found, images_dir())


@bp.get("/<report_id>/map.html")
@login_required
def map_html(report_id: str) -> Response:
    found, evidence = _frozen(report_id)
    return story.map_response(found, evidence, download=bool(request.args.get("download")))


@bp.get("/<report_id>/figure.<any(png, svg):fmt>")
@login_required
def figure(report_id: str, fmt: str) -> Response:
    found, evidence = _frozen(report_id)
    return story.figure_response(found, evidence, fmt, request.args)


@bp.get("/<report_id>/bundle.zip")
@login_required
def bundle(report_id: str) -> Response:
    found, evidence = _frozen(report_id)
    return story.bundle_response(found, evidence)


@signing_bp.get("/signing-key")
def signing_key() -> Response:
    """The server's Ed25519 public key, which `annotator verify BUNDLE --key FILE` checks a
    bundle's signature with (save `public_key` as FILE). No sign-in: a reader checking a bundle
    handed on to them needs it, and it is public by nature."""
    key = story.signing_key()
    return jsonify(
        {
            "algorithm": signing.ALGORITHM,
            "sha256": key.fingerprint(),
            "public_key": key.public_pem(),
        }
    )
