"""Reports API: reports, their claims, publishing, and the story outputs of a publication."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from annotations.catalogue.users import Role
from annotations.discussion.comments import as_dicts, comments_on_report
from annotations.newsroom import publishing, reports, signing
from annotations.newsroom.links import find_links
from annotations.newsroom.reports import ReportInput, ReportPatch, TextQuoteSelector
from annotations.newsroom.withdrawal import WithdrawalInput, withdraw, withdrawal_of
from annotator import services, story
from annotator.api.contract import operation
from annotator.api.models import newsroom as models
from annotator.auth import actor, login_required, role_required
from annotator.errors import RequestError
from annotator.jobs.start import start_story
from annotator.jobs.story import story_params
from annotator.pages.withdrawn import gone, notice_page
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
    withdrawn = withdrawal_of(session, report)
    body["withdrawn"] = withdrawn.to_dict() if withdrawn else None
    return body


TAGS = ("reports",)
WRITES = (400, 403, 404, 415, 422)


@bp.get("")
@login_required
@operation(
    "listReports",
    summary="Reports (viewers see published ones only)",
    tags=TAGS,
    responses={200: models.ReportList},
)
def index() -> Response:
    with database().read() as session:
        found = reports.list_reports(session, role())
        return jsonify({"reports": [r.to_dict() | {"text": None} for r in found]})


@bp.post("")
@role_required(Role.editor)
@operation(
    "createReport",
    summary="Add a report (editor)",
    tags=TAGS,
    body=ReportInput,
    responses={201: models.Report},
    errors=(400, 403, 409, 415, 422),
    security="write",
    extra=models.CREATED,
)
def create(body: ReportInput) -> tuple[Response, int, dict[str, str]]:
    with database().write() as session:
        report = reports.create_report(session, body, actor())
        found = report_body(report, session)
    return jsonify(found), 201, {"Location": url_for("reports.show", report_id=found["id"])}


@bp.get("/<report_id>")
@login_required
@operation(
    "getReport",
    summary="A report with its claims, links and publications",
    tags=TAGS,
    responses={200: models.Report},
    errors=(404,),
)
def show(report_id: str) -> Response:
    with database().read() as session:
        return jsonify(report_body(reports.get_report(session, report_id, role()), session))


@bp.route("/<report_id>", methods=["PUT", "PATCH"])
@role_required(Role.editor)
@operation(
    "replaceReport",
    summary="Replace a report's fields (editor)",
    tags=TAGS,
    body=ReportInput,
    responses={200: models.Report},
    errors=WRITES,
    security="write",
    method="PUT",
)
@operation(
    "changeReport",
    summary="Change some of a report's fields (editor)",
    tags=TAGS,
    body=ReportPatch,
    responses={200: models.Report},
    errors=WRITES,
    security="write",
    method="PATCH",
)
def edit(report_id: str, body: ReportInput) -> Response:
    with database().write() as session:
        report = reports.get_report(session, report_id, role(), for_update=True)
        data = reports.patched(report, body) if isinstance(body, ReportPatch) else body
        reports.update_report(session, report, data, actor())
        return jsonify(report_body(report, session))


@bp.delete("/<report_id>")
@role_required(Role.editor)
@operation(
    "deleteReport",
    summary="Delete a report (soft; editor)",
    tags=TAGS,
    responses={200: models.Deleted},
    errors=(400, 403, 404),
    security="write",
)
def remove(report_id: str) -> Response:
    with database().write() as session:
        report = reports.get_report(session, report_id, role(), for_update=True)
        reports.delete_report(session, report, actor())
        return jsonify({"deleted": report.id})


@bp.get("/<report_id>/history")
@login_required
@operation(
    "reportHistory",
    summary="Every change to the report, its claims, links and publications",
    tags=TAGS,
    responses={200: models.ReportChanges},
    errors=(404,),
)
def history(report_id: str) -> Response:
    """Every change to the report, its claims, its links and its publications."""
    with database().read() as session:
        report = reports.get_report(session, report_id, role())
        found = publishing.history_of(session, report)
        talk = as_dicts(session, comments_on_report(session, report.id))
        changes = [c.to_dict() for c in found]
        return jsonify({"report": report.id, "changes": changes, "comments": talk})


# ---- claims


@bp.get("/<report_id>/claims")
@login_required
@operation(
    "listClaims",
    summary="The report's claims",
    tags=TAGS,
    responses={200: models.ClaimList},
    errors=(404,),
)
def claims(report_id: str) -> Response:
    with database().read() as session:
        report = reports.get_report(session, report_id, role())
        return jsonify({"claims": [c.to_dict() for c in reports.claims_of(session, [report.id])]})


@bp.post("/<report_id>/claims")
@role_required(Role.editor)
@operation(
    "createClaim",
    summary="Quote the report's text as a claim (editor)",
    tags=TAGS,
    body=TextQuoteSelector,
    responses={201: models.Claim},
    errors=WRITES,
    security="write",
    extra=models.CREATED,
)
def create_claim(report_id: str, body: TextQuoteSelector) -> tuple[Response, int, dict[str, str]]:
    with database().write() as session:
        report = reports.get_report(session, report_id, role(), for_update=True)
        claim = reports.create_claim(session, report, body.exact, body.prefix, body.suffix, actor())
        made = claim.to_dict()
    location = url_for("reports.show_claim", report_id=report_id, claim_id=made["id"])
    return jsonify(made), 201, {"Location": location}


@bp.get("/<report_id>/claims/<claim_id>")
@login_required
@operation(
    "getClaim",
    summary="A claim with its links",
    tags=TAGS,
    responses={200: models.Claim},
    errors=(404,),
)
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
@operation(
    "deleteClaim",
    summary="Remove a claim that has no links (editor)",
    tags=TAGS,
    responses={200: models.Deleted},
    errors=(400, 403, 404, 409),
    security="write",
)
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
@operation(
    "publishReport",
    summary="Freeze the evidence as the next publication (editor); 409 lists every linked "
    "annotation not approved or deleted",
    tags=TAGS,
    responses={201: models.Publication},
    errors=(400, 403, 404, 409, 422),
    security="write",
    extra=models.CREATED,
)
def publish(report_id: str) -> tuple[Response, int, dict[str, str]]:
    labels = services.taxonomy()
    with database().write() as session:
        report = reports.get_report(session, report_id, role(), for_update=True)
        publication = publishing.publish(session, report, actor(), images_dir(), labels)
        body = publication.to_dict()
        body["embed_url"] = url_for("embed.embed", token=report.embed_token)
    location = url_for("reports.publication", report_id=report_id, number=body["number"])
    return jsonify(body), 201, {"Location": location}


@bp.post("/<report_id>/withdraw")
@role_required(Role.editor)
@operation(
    "withdrawReport",
    summary="Withdraw a published report, with a reason readers are shown (editor)",
    description="The report's status becomes `withdrawn`: its embed and interactive map answer "
    "410 with 'withdrawn on <date>: <reason>' instead of the map, and its figure and bundle "
    "410 `withdrawn`. Every publication stays in the record (`/publications/<n>`) and the "
    "history. Publishing again makes the next publication. 409 unless published.",
    tags=TAGS,
    body=WithdrawalInput,
    responses={200: models.Report},
    errors=(400, 403, 404, 409, 415, 422),
    security="write",
)
def withdraw_report(report_id: str, body: WithdrawalInput) -> Response:
    with database().write() as session:
        report = reports.get_report(session, report_id, role(), for_update=True)
        withdraw(session, report, body.reason, actor())
        return jsonify(report_body(report, session))


@bp.get("/<report_id>/publications")
@login_required
@operation(
    "listPublications",
    summary="Every publication with its sha256",
    tags=TAGS,
    responses={200: models.PublicationList},
    errors=(404,),
)
def publications(report_id: str) -> Response:
    with database().read() as session:
        report = reports.get_report(session, report_id, role())
        found = publishing.publications_of(session, report)
        return jsonify({"publications": [p.to_dict() for p in found]})


@bp.get("/<report_id>/publications/<int:number>")
@login_required
@operation(
    "getPublication",
    summary="The frozen evidence JSON, byte for byte as hashed",
    tags=TAGS,
    responses={200: {"type": "object"}},
    errors=(404,),
)
def publication(report_id: str, number: int) -> Response:
    """The frozen evidence, exactly as published (its sha256 is in the ETag)."""
    with database().read() as session:
        report = reports.get_report(session, report_id, role())
        found = publishing.get_publication(session, report, number)
        response = Response(found.evidence_json, mimetype="application/json")
        response.set_etag(found.sha256)
        response.headers["X-Content-SHA256"] = found.sha256
        return response


def _frozen(report_id: str, query: models.Frozen) -> tuple[publishing.Publication, Any]:
    """The publication's evidence; a withdrawn report's outputs are gone (410)."""
    with database().read() as session:
        report = reports.get_report(session, report_id, role())
        withdrawn = withdrawal_of(session, report)
        if withdrawn is not None:
            raise gone(report, withdrawn)
        found = publishing.get_publication(session, report, query.publication)
    return found, publishing.frozen_evidence(found, images_dir())


#: the answer to `async=1` on a story output
STORY_JOB = {
    "description": "With `async=1`: a `story` job makes the file in the background; "
    "`Location` is the job, whose `result.download` is the file (its owner's, while they may "
    "still see the report).",
    "headers": {"Location": {"$ref": "#/components/headers/Location"}},
}


def _in_background() -> bool:
    return request.args.get("async", "").strip().lower() in ("1", "true", "yes", "on")


def _story_job(
    report_id: str, query: models.Frozen, output: str, options: dict[str, Any] | None = None
) -> Response:
    """`async=1`: the output as a story job (annotator.jobs.story), after the same checks
    (the report is the caller's to see, not withdrawn, the publication exists); 202 with the
    job, whose result links the file's download."""
    with database().read() as session:
        report = reports.get_report(session, report_id, role())
        withdrawn = withdrawal_of(session, report)
        if withdrawn is not None:
            raise gone(report, withdrawn)
        number = publishing.get_publication(session, report, query.publication).number
        params = story_params(report.id, number, output, options)
    job = start_story(params, actor().name)
    response = jsonify(job)
    response.status_code = 202
    response.headers["Location"] = url_for("jobs_api.show", job_id=job["id"])
    return response


@bp.get("/<report_id>/map.html")
@login_required
@operation(
    "reportMap",
    summary="The interactive map of a publication: one self-contained HTML file",
    tags=TAGS,
    query=models.MapQuery,
    responses={200: {"description": "HTML.", "content": {"text/html": {}}}, 202: STORY_JOB},
    errors=(400, 404, 410),
)
def map_html(report_id: str, query: models.MapQuery) -> Response:
    if _in_background():
        return _story_job(report_id, query, "map")
    with database().read() as session:
        report = reports.get_report(session, report_id, role())
        withdrawn = withdrawal_of(session, report)
        if withdrawn is not None:
            return notice_page(report, withdrawn, frame_ancestors="'self'")
    found, evidence = _frozen(report_id, query)
    return story.map_response(found, evidence, download=bool(query.download))


@bp.get("/<report_id>/figure.<any(png, svg):fmt>")
@login_required
@operation(
    "reportFigure",
    summary="The annotated figure (PNG at print resolution, or SVG)",
    tags=TAGS,
    query=models.FigureQuery,
    responses={
        200: {
            "description": "The figure.",
            "content": {media: {} for media in story.FIGURE_TYPES.values()},
        },
        202: STORY_JOB,
    },
    errors=(400, 403, 404, 410, 422, 503),
)
def figure(report_id: str, fmt: str, query: models.FigureQuery) -> Response:
    if query.caption and role() < Role.editor:
        raise RequestError(
            f"writing a figure's caption needs the editor role; you are {role().name}",
            status=403,
            code="forbidden",
        )
    width = query.width or story.FIGURE_DEFAULT_PX
    if _in_background():
        options: dict[str, Any] = {"width": width, "height": query.height}
        options |= {"caption": query.caption, "annotation_ids": query.annotation_ids()}
        return _story_job(report_id, query, f"figure.{fmt}", options)
    found, evidence = _frozen(report_id, query)
    return story.figure_response(
        found,
        evidence,
        fmt,
        width=width,
        height=query.height,
        ids=query.annotation_ids(),
        caption=query.caption,
    )


@bp.get("/<report_id>/bundle.zip")
@login_required
@operation(
    "reportBundle",
    summary="The evidence bundle: GeoJSON, KML, figure and manifest.json",
    description="`manifest.json` holds the sha256 of every other member, and "
    "`manifest.json.sig` the server's Ed25519 signature of the manifest "
    "(`annotator verify BUNDLE --key FILE` checks both; the key is at "
    "`GET /api/v1/signing-key`). The bundle's own `signing-key.pem` is a "
    "convenience and proves nothing about its origin.",
    tags=TAGS,
    query=models.Frozen,
    responses={
        200: {"description": "A zip file.", "content": {"application/zip": {}}},
        202: STORY_JOB,
    },
    errors=(400, 404, 410),
)
def bundle(report_id: str, query: models.Frozen) -> Response:
    if _in_background():
        return _story_job(report_id, query, "bundle")
    found, evidence = _frozen(report_id, query)
    return story.bundle_response(found, evidence)


@signing_bp.get("/signing-key")
@operation(
    "signingKey",
    summary="The public key that evidence bundles are signed with (no sign-in)",
    description="Save `public_key` as a file and check a bundle with `annotator verify BUNDLE "
    "--key FILE`. Get it from this server itself: a key that came with a bundle proves nothing.",
    tags=TAGS,
    responses={200: models.SigningKey},
    security=None,
)
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
