"""The OpenAPI description of reports, claims, events, links and publishing.

Built from the same constants the validators check (annotations.newsroom.reports, .events, .links,
annotator.story), and merged into the document by annotator.api.openapi.build.
"""

from __future__ import annotations

from typing import Any

from annotations.newsroom import events as event_rules
from annotations.newsroom import links as link_rules
from annotations.newsroom import reports as report_rules
from annotator.api.openapi import WRITE_SECURITY, errors, json_content, ok, ref, schema_ref
from annotator.story import FIGURE_MAX_PX, FIGURE_MIN_PX, FIGURE_TYPES

TAGS = [
    {"name": "reports", "description": "News reports, the claims quoted from them, publishing."},
    {"name": "events", "description": "What happened at a site over a time window."},
    {"name": "links", "description": "Evidence (annotations, events) for reports and claims."},
]
EXAMPLE_REPORT = {
    "title": "The situation of the Russian forces in Syria",
    "url": "https://news.example.org/syria",
    "published_at": "2026-05-25",
    "language": "en",
    "text": "Satellite images captured two Antonov AN-124 aircraft \u2026 at the Hmeimim base",
    "coarsening": {"mode": "round", "metres": 500},
}


def _id(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }


def parameters() -> dict[str, Any]:
    def query(name: str, description: str) -> dict[str, Any]:
        return {
            "name": name,
            "in": "query",
            "description": description,
            "schema": {"type": "integer", "minimum": 1},
        }

    return {
        "ReportId": _id("report_id", "The report's id."),
        "ClaimId": _id("claim_id", "The claim's id."),
        "EventId": _id("event_id", "The event's id."),
        "LinkId": _id("link_id", "The link's id."),
        "report": query(
            "report",
            "Annotations the report rests on: linked to it, to one of "
            "its claims, or grouped into an event linked to it. A report you may not see "
            "(a draft, to a viewer) selects nothing, as an id that does not exist.",
        ),
        "event": query("event", "Annotations grouped into this event."),
        "Publication": query("publication", "Which publication (number); the latest if absent."),
    }


def _stamped(**properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            **properties,
            "created_by": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
        },
    }


def schemas() -> dict[str, Any]:
    text = {"type": ["string", "null"]}
    selector = {
        "type": "object",
        "description": "A W3C Web Annotation TextQuoteSelector: `prefix + exact + suffix` must "
        "occur in the report's text (422 otherwise). Without prefix and suffix, "
        f"{report_rules.CONTEXT_CHARS} characters either side of the first match are kept.",
        "required": ["exact"],
        "properties": {
            "type": {"const": "TextQuoteSelector"},
            "exact": {"type": "string", "minLength": 1, "maxLength": report_rules.QUOTE_MAX},
            "prefix": {"type": "string", "maxLength": report_rules.QUOTE_MAX},
            "suffix": {"type": "string", "maxLength": report_rules.QUOTE_MAX},
        },
    }
    coarsening = {
        "type": ["object", "null"],
        "description": "How published coordinates are coarsened: `none`; `round` to a grid of "
        "`metres` (in the UTM zone); or `site`: each geometry replaced by its site's area.",
        "properties": {
            "mode": {"enum": list(report_rules.COARSENING_MODES)},
            "metres": {
                "type": ["integer", "null"],
                "minimum": 1,
                "maximum": report_rules.COARSEN_MAX_M,
            },
        },
    }
    report_input = {
        "type": "object",
        "additionalProperties": False,
        "required": ["title"],
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": report_rules.TITLE_MAX},
            "url": {
                "type": ["string", "null"],
                "format": "uri",
                "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
                "maxLength": report_rules.URL_MAX,
                "description": "http or https only: javascript:, data:, file: and relative "
                "addresses are refused (422).",
            },
            "outlet": {"type": ["string", "null"], "maxLength": report_rules.FIELD_MAX},
            "authors": {
                "type": "array",
                "items": {"type": "string"},
                "maxItems": report_rules.AUTHORS_MAX,
            },
            "published_at": {"type": ["string", "null"], "description": "ISO 8601 date or time."},
            "language": {"type": ["string", "null"], "description": "A BCP 47 tag, e.g. en."},
            "summary": {"type": ["string", "null"], "maxLength": report_rules.SUMMARY_MAX},
            "text": {
                "type": ["string", "null"],
                "maxLength": report_rules.TEXT_MAX,
                "description": "The report's pasted text, which claims quote.",
            },
            "coarsening": coarsening,
            "status": {
                "enum": list(report_rules.REPORT_STATUSES),
                "description": "Ignored: publishing sets it.",
            },
            "comment": {"type": "string"},
            "id": {"type": "integer"},
        },
    }
    claim = _stamped(
        id={"type": "integer"},
        report_id={"type": "integer"},
        selector=selector,
        exact={"type": "string"},
        prefix={"type": "string"},
        suffix={"type": "string"},
        start={"type": "integer", "description": "Where `exact` starts in the text."},
    )
    link = _stamped(
        id={"type": "integer"},
        annotation_id={"type": ["string", "null"]},
        event_id={"type": ["integer", "null"]},
        report_id={"type": "integer"},
        claim_id={"type": ["integer", "null"]},
        stance={"enum": list(link_rules.STANCES)},
        note={"type": "string"},
    )
    publication = {
        "type": "object",
        "properties": {
            "report_id": {"type": "integer"},
            "number": {"type": "integer"},
            "sha256": {
                "type": "string",
                "pattern": "^[0-9a-f]{64}$",
                "description": "Of the frozen evidence JSON, byte for byte.",
            },
            "published_by": {"type": "string"},
            "published_at": {"type": "string", "format": "date-time"},
            "annotations": {"type": "integer"},
            "coarsening": text,
            "embed_url": {"type": "string"},
        },
    }
    report = {
        "allOf": [
            report_input,
            {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "version": {"type": "integer"},
                    "claims": {"type": "array", "items": schema_ref("Claim")},
                    "links": {"type": "array", "items": schema_ref("Link")},
                    "publications": {"type": "array", "items": schema_ref("Publication")},
                    "embed_url": text,
                },
            },
        ]
    }
    event_input = {
        "type": "object",
        "required": ["site", "title", "start", "end"],
        "properties": {
            "site": {"type": "string", "description": "The site's slug."},
            "title": {"type": "string", "minLength": 1, "maxLength": event_rules.TITLE_MAX},
            "description": {"type": "string", "maxLength": event_rules.DESCRIPTION_MAX},
            "start": {"type": "string", "description": "ISO 8601 date or time."},
            "end": {"type": "string", "description": "ISO 8601; a date ends at its last moment."},
            "annotation_ids": {
                "type": "array",
                "items": {"type": "string"},
                "maxItems": event_rules.MEMBERS_PER_REQUEST,
            },
        },
    }
    event = {
        "allOf": [
            event_input,
            {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "summary": {
                        "type": "object",
                        "description": "Counts per capture date per label, "
                        "first_seen, last_seen, and the captures within the window.",
                    },
                    "links": {"type": "array", "items": schema_ref("Link")},
                },
            },
        ]
    }
    change = {
        "type": "object",
        "properties": {
            "change": {"type": "integer"},
            "subject": {"type": "string"},
            "subject_id": {"type": "integer"},
            "action": {"type": "string"},
            "actor": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "comment": text,
            "before": {},
            "after": {},
        },
    }
    return {
        "ReportInput": report_input,
        "Report": report,
        "ReportList": {
            "type": "object",
            "properties": {"reports": {"type": "array", "items": schema_ref("Report")}},
        },
        "TextQuoteSelector": selector,
        "Claim": claim,
        "ClaimList": {
            "type": "object",
            "properties": {"claims": {"type": "array", "items": schema_ref("Claim")}},
        },
        "LinkInput": {
            "type": "object",
            "description": "One of annotation_id / event_id, and report_id and/or claim_id.",
            "required": ["stance"],
            "properties": {
                "annotation_id": {"type": "string"},
                "event_id": {"type": "integer"},
                "report_id": {"type": "integer"},
                "claim_id": {"type": "integer"},
                "stance": {"enum": list(link_rules.STANCES)},
                "note": {"type": "string", "maxLength": link_rules.NOTE_MAX},
            },
        },
        "Link": link,
        "LinkList": {
            "type": "object",
            "properties": {"links": {"type": "array", "items": schema_ref("Link")}},
        },
        "EventInput": event_input,
        "Event": event,
        "EventList": {
            "type": "object",
            "properties": {"events": {"type": "array", "items": schema_ref("Event")}},
        },
        "EventMembers": {
            "type": "object",
            "required": ["annotation_ids"],
            "properties": {"annotation_ids": {"type": "array", "items": {"type": "string"}}},
        },
        "Publication": publication,
        "PublicationList": {
            "type": "object",
            "properties": {"publications": {"type": "array", "items": schema_ref("Publication")}},
        },
        "Changes": {
            "type": "object",
            "properties": {"changes": {"type": "array", "items": change}},
        },
    }


def _write(
    operation: str,
    summary: str,
    body: str | None,
    created: str | None,
    result: dict[str, Any],
    statuses: tuple[int, ...],
    tag: str,
    **extra: Any,
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "tags": [tag],
        "operationId": operation,
        "summary": summary,
        "security": WRITE_SECURITY,
        **extra,
    }
    if body:
        found["requestBody"] = {"required": True, "content": json_content(schema_ref(body))}
    if created:
        found["responses"] = {
            "201": ok(created, result, headers={"Location": ref("headers", "Location")}),
            **errors(*statuses),
        }
    else:
        found["responses"] = {"200": ok("Done.", result), **errors(*statuses)}
    return found


def _read(
    operation: str,
    summary: str,
    result: dict[str, Any],
    tag: str,
    statuses: tuple[int, ...] = (401, 404),
    **extra: Any,
) -> dict[str, Any]:
    return {
        "tags": [tag],
        "operationId": operation,
        "summary": summary,
        "responses": {"200": ok("Found.", result), **errors(*statuses)},
        **extra,
    }


def paths() -> dict[str, Any]:
    report_id = ref("parameters", "ReportId")
    claim_id = ref("parameters", "ClaimId")
    event_id = ref("parameters", "EventId")
    publication = ref("parameters", "Publication")
    writes = (400, 401, 403, 404, 415, 422)
    done = {"type": "object"}
    figure_size = [
        {
            "name": name,
            "in": "query",
            "description": f"Figure {name} in pixels, {FIGURE_MIN_PX} to {FIGURE_MAX_PX} "
            "(400 outside). A publication's figure at a given size is made once and then "
            "served from a cache on disk (the `X-Cache` header says `hit` or `miss`).",
            "schema": {"type": "integer", "minimum": FIGURE_MIN_PX, "maximum": FIGURE_MAX_PX},
        }
        for name in ("width", "height")
    ]
    return {
        "/api/v1/reports": {
            "get": _read(
                "listReports",
                "Reports (viewers see published ones only)",
                schema_ref("ReportList"),
                "reports",
                (401,),
            ),
            "post": {
                **_write(
                    "createReport",
                    "Add a report (editor)",
                    "ReportInput",
                    "The new report.",
                    schema_ref("Report"),
                    (400, 401, 403, 409, 415, 422),
                    "reports",
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": schema_ref("ReportInput"),
                            "example": EXAMPLE_REPORT,
                        }
                    },
                },
            },
        },
        "/api/v1/reports/{report_id}": {
            "parameters": [report_id],
            "get": _read(
                "getReport",
                "A report with its claims, links and publications",
                schema_ref("Report"),
                "reports",
            ),
            "put": _write(
                "replaceReport",
                "Replace a report's fields (editor)",
                "ReportInput",
                None,
                schema_ref("Report"),
                writes,
                "reports",
            ),
            "patch": _write(
                "changeReport",
                "Change some of a report's fields (editor)",
                "ReportInput",
                None,
                schema_ref("Report"),
                writes,
                "reports",
            ),
            "delete": _write(
                "deleteReport",
                "Delete a report (soft; editor)",
                None,
                None,
                done,
                (400, 401, 403, 404),
                "reports",
            ),
        },
        "/api/v1/reports/{report_id}/history": {
            "parameters": [report_id],
            "get": _read(
                "reportHistory",
                "Every change to the report, its claims, links and publications",
                schema_ref("Changes"),
                "reports",
            ),
        },
        "/api/v1/reports/{report_id}/claims": {
            "parameters": [report_id],
            "get": _read("listClaims", "The report's claims", schema_ref("ClaimList"), "reports"),
            "post": _write(
                "createClaim",
                "Quote the report's text as a claim (editor)",
                "TextQuoteSelector",
                "The new claim.",
                schema_ref("Claim"),
                writes,
                "reports",
            ),
        },
        "/api/v1/reports/{report_id}/claims/{claim_id}": {
            "parameters": [report_id, claim_id],
            "get": _read("getClaim", "A claim with its links", schema_ref("Claim"), "reports"),
            "delete": _write(
                "deleteClaim",
                "Remove a claim that has no links (editor)",
                None,
                None,
                done,
                (400, 401, 403, 404, 409),
                "reports",
            ),
        },
        "/api/v1/reports/{report_id}/publish": {
            "parameters": [report_id],
            "post": _write(
                "publishReport",
                "Freeze the evidence as the next publication "
                "(editor); 409 lists every linked annotation not approved or deleted",
                None,
                "The publication.",
                schema_ref("Publication"),
                (400, 401, 403, 404, 409, 422),
                "reports",
            ),
        },
        "/api/v1/reports/{report_id}/publications": {
            "parameters": [report_id],
            "get": _read(
                "listPublications",
                "Every publication with its sha256",
                schema_ref("PublicationList"),
                "reports",
            ),
        },
        "/api/v1/reports/{report_id}/publications/{number}": {
            "parameters": [
                report_id,
                {
                    "name": "number",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1},
                },
            ],
            "get": _read(
                "getPublication",
                "The frozen evidence JSON, byte for byte as hashed",
                {"type": "object"},
                "reports",
            ),
        },
        "/api/v1/reports/{report_id}/map.html": {
            "parameters": [report_id],
            "get": {
                "tags": ["reports"],
                "operationId": "reportMap",
                "summary": "The interactive map of a publication: one self-contained HTML file",
                "parameters": [
                    publication,
                    {"name": "download", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {"description": "HTML.", "content": {"text/html": {}}},
                    **errors(400, 401, 404),
                },
            },
        },
        "/api/v1/reports/{report_id}/figure.{fmt}": {
            "parameters": [
                report_id,
                {
                    "name": "fmt",
                    "in": "path",
                    "required": True,
                    "schema": {"enum": list(FIGURE_TYPES)},
                },
            ],
            "get": {
                "tags": ["reports"],
                "operationId": "reportFigure",
                "summary": "The annotated figure (PNG at print resolution, or SVG)",
                "parameters": [
                    publication,
                    *figure_size,
                    {
                        "name": "annotations",
                        "in": "query",
                        "description": "Comma-separated annotation ids to show.",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The figure.",
                        "content": {m: {} for m in FIGURE_TYPES.values()},
                    },
                    **errors(400, 401, 404, 422, 503),
                },
            },
        },
        "/api/v1/reports/{report_id}/bundle.zip": {
            "parameters": [report_id],
            "get": {
                "tags": ["reports"],
                "operationId": "reportBundle",
                "summary": "The evidence bundle: GeoJSON, KML, figure and manifest.json",
                "description": "`manifest.json` holds the sha256 of every other member, and "
                "`manifest.json.sig` the server's Ed25519 signature of the manifest "
                "(`annotator verify BUNDLE --key FILE` checks both; the key is at "
                "`GET /api/v1/signing-key`). The bundle's own `signing-key.pem` is a "
                "convenience and proves nothing about its origin.",
                "parameters": [publication],
                "responses": {
                    "200": {"description": "A zip file.", "content": {"application/zip": {}}},
                    **errors(400, 401, 404),
                },
            },
        },
        "/api/v1/signing-key": {
            "get": {
                "tags": ["reports"],
                "operationId": "signingKey",
                "summary": "The public key that evidence bundles are signed with (no sign-in)",
                "description": "Save `public_key` as a file and check a bundle with "
                "`annotator verify BUNDLE --key FILE`. Get it from this server itself: a key "
                "that came with a bundle proves nothing.",
                "security": [],
                "responses": {
                    "200": ok(
                        "The key.",
                        {
                            "type": "object",
                            "required": ["algorithm", "sha256", "public_key"],
                            "properties": {
                                "algorithm": {"const": "Ed25519"},
                                "sha256": {
                                    "type": "string",
                                    "pattern": "^[0-9a-f]{64}$",
                                    "description": "sha256 of the raw 32-byte key",
                                },
                                "public_key": {
                                    "type": "string",
                                    "description": "PEM (SubjectPublicKeyInfo)",
                                },
                            },
                        },
                    ),
                },
            },
        },
        "/api/v1/events": {
            "get": _read(
                "listEvents",
                "Events (optionally `?site=`)",
                schema_ref("EventList"),
                "events",
                (401, 404),
                parameters=[{"name": "site", "in": "query", "schema": {"type": "string"}}],
            ),
            "post": _write(
                "createEvent",
                "Add an event, optionally with its annotations (analyst)",
                "EventInput",
                "The new event.",
                schema_ref("Event"),
                (400, 401, 403, 404, 409, 415, 422),
                "events",
            ),
        },
        "/api/v1/events/{event_id}": {
            "parameters": [event_id],
            "get": _read(
                "getEvent", "An event with its computed summary", schema_ref("Event"), "events"
            ),
            "put": _write(
                "replaceEvent",
                "Replace an event's fields (analyst)",
                "EventInput",
                None,
                schema_ref("Event"),
                writes,
                "events",
            ),
            "patch": _write(
                "changeEvent",
                "Change some of an event's fields (analyst)",
                "EventInput",
                None,
                schema_ref("Event"),
                writes,
                "events",
            ),
            "delete": _write(
                "deleteEvent",
                "Delete an event (soft; editor)",
                None,
                None,
                done,
                (400, 401, 403, 404),
                "events",
            ),
        },
        "/api/v1/events/{event_id}/annotations": {
            "parameters": [event_id],
            "post": _write(
                "addEventAnnotations",
                "Group annotations into the event (analyst)",
                "EventMembers",
                None,
                schema_ref("Event"),
                (400, 401, 403, 404, 409, 415, 422),
                "events",
            ),
        },
        "/api/v1/events/{event_id}/annotations/{annotation_id}": {
            "parameters": [event_id, ref("parameters", "AnnotationId")],
            "delete": _write(
                "removeEventAnnotation",
                "Take an annotation out of the event (analyst)",
                None,
                None,
                schema_ref("Event"),
                (400, 401, 403, 404),
                "events",
            ),
        },
        "/api/v1/events/{event_id}/history": {
            "parameters": [event_id],
            "get": _read(
                "eventHistory", "Every change to the event", schema_ref("Changes"), "events"
            ),
        },
        "/api/v1/links": {
            "get": _read(
                "listLinks",
                "Links, seen from either side",
                schema_ref("LinkList"),
                "links",
                (401, 404),
                parameters=[
                    {"name": name, "in": "query", "schema": {"type": "string"}}
                    for name in ("report", "claim", "annotation", "event")
                ],
            ),
            "post": _write(
                "createLink",
                "Link an annotation or an event to a report or a claim "
                "(analyst); 404 when either end is missing or hidden from you",
                "LinkInput",
                "The new link.",
                schema_ref("Link"),
                (400, 401, 403, 404, 409, 415, 422),
                "links",
            ),
        },
        "/api/v1/links/{link_id}": {
            "parameters": [ref("parameters", "LinkId")],
            "get": _read("getLink", "A link with its history", schema_ref("Link"), "links"),
            "delete": _write(
                "deleteLink",
                "Unlink (kept in the history; analysts their own links, editors any)",
                None,
                None,
                done,
                (400, 401, 403, 404),
                "links",
            ),
        },
    }
