"""Commands that bring annotations in and take them out: import, export, verify, publish."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from annotations.catalogue.users import (
    Role,
    get_user,
)
from annotator import services
from annotator.cli.common import emit, friendly, load_app, main
from imagery.sizes import MAX_SIDE_PX, MIN_SIDE_PX


@main.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--image", "image_id", help="Put every feature on this image (id).")
@click.option("--label-field", help="The field holding each feature's label [label].")
@click.option(
    "--label-map",
    "label_map_path",
    type=click.Path(path_type=Path),
    help="JSON or CSV file mapping the field's values to label ids.",
)
@click.option("--dry-run", is_flag=True, help="Report what would be made; change nothing.")
@click.option("--user", "user_name", help="The analyst who authors the annotations.")
@click.option("--json", "as_json", is_flag=True)
@friendly
def import_annotations(
    path: Path,
    image_id: str | None,
    label_field: str | None,
    label_map_path: Path | None,
    dry_run: bool,
    user_name: str | None,
    as_json: bool,
) -> None:
    """Import annotations from GeoJSON, GeoPackage, zipped Shapefile, KML/KMZ, a STAC
    label item, FlatGeobuf, GeoParquet or CSV (a WKT column, or lon/lat columns): all of
    them, or none if one is invalid; importing again adds nothing."""
    from annotations.annotation import Actor
    from annotations.exchange.imports import (
        ImportOptions,
        ImportRequest,
        import_file,
        read_label_map,
    )
    from annotations.exchange.safety import check_regular_file

    app = load_app()
    max_bytes = int(app.config["MAX_UPLOAD_MB"]) * 1024 * 1024
    check_regular_file(path, max_bytes)
    label_map = read_label_map(label_map_path) if label_map_path else {}
    database = services.database(app)
    actor = None
    if not dry_run:
        if not user_name:
            raise click.ClickException("give --user NAME: the analyst who authors the import")
        with database.read() as session:
            user = get_user(session, user_name)
            if not user.can(Role.analyst):
                raise click.ClickException(f"{user_name} is not an active analyst, editor or admin")
            actor = Actor(user.name, user.role)
    request = ImportRequest(
        name=path.name,
        options=ImportOptions(image_id=image_id, label_field=label_field, label_map=label_map),
        dry_run=dry_run,
        actor=actor,
        tmp_dir=Path(app.config["TMP_DIR"]),
        max_bytes=max_bytes,
        origin=path.resolve().parent,
    )
    with path.open("rb") as stream:
        report = import_file(database, services.taxonomy(app), stream, request)
    emit(as_json, report, _import_lines(report))


def _import_lines(report: dict[str, Any]) -> list[str]:
    source = report["source"]
    verb = "would create" if report["dry_run"] else "created"
    count = report["would_create"] if report["dry_run"] else report["created"]
    lines = [
        f"{source['name']} ({source['format']}, {source['features']} features, sha256 "
        f"{source['sha256'][:12]}): {verb} {count}, already imported "
        f"{report['already_imported']}, outside every image {report['outside_every_image']}, "
        f"invalid {report['invalid']}"
    ]
    lines += [f"  {label}: {n}" for label, n in report["by_label"].items()]
    if report["unknown_labels"]:
        lines.append("  unknown labels: " + ", ".join(report["unknown_labels"]))
    lines += [
        f"  not imported: {r['layer']} #{r['number']} (id {r['feature_id']}): {r['reason']}"
        for r in report["not_imported"]
    ]
    return lines


@main.command()
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option(
    "--key",
    "key_file",
    type=click.Path(path_type=Path),
    metavar="PUBLIC_KEY",
    help="The server's public key (PEM: `annotator keys public`, or GET "
    "/api/v1/signing-key): also check the manifest's signature, which proves "
    "where the bundle came from. Without it only integrity is checked.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print {bundle, ok, problems, origin_checked} as JSON."
)
@friendly
def verify(bundle: Path, key_file: Path | None, as_json: bool) -> None:
    """Re-check every sha256 in an evidence BUNDLE (integrity) and, given --key, its signature
    (origin): OK, or one line per problem (exit 1). Members are hashed as they stream; a bundle
    too large or too compressed to be one this server made is refused unread."""
    from annotations.newsroom.bundle import verify_bundle
    from annotations.newsroom.signing import fingerprint, read_public_key

    key = read_public_key(key_file) if key_file is not None else None
    problems = verify_bundle(bundle, public_key=key)
    if key is None:
        origin = " (integrity only; origin not checked: give --key PUBLIC_KEY to check it)"
    else:
        signer = fingerprint(key)[:16]
        origin = f", and the manifest is signed by the key given (sha256:{signer}\u2026)"
    if as_json:
        emit(
            True,
            {
                "bundle": str(bundle),
                "ok": not problems,
                "problems": problems,
                "origin_checked": key is not None,
            },
            [],
        )
    elif not problems:
        click.echo(f"OK {bundle}: every hash checks out{origin}")
    for problem in problems if not as_json else []:
        click.echo(problem, err=True)
    if problems:
        sys.exit(1)


@main.command("export")
@click.option(
    "--format",
    "format_name",
    required=True,
    metavar="FORMAT",
    help="One of: geojson, gpkg, shp, kml, kmz, csv, fgb, geoparquet, stac, coco, yolo.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="The file (or, for stac, coco and yolo, the folder) to write; never overwritten.",
)
@click.option("--site", help="Only annotations meeting this site's area (slug).")
@click.option("--image", help="Only annotations on this image (id).")
@click.option("--label", help="A label branch: aircraft.transport takes every transport.")
@click.option("--status", help="Comma-separated review states, e.g. approved,in_review.")
@click.option(
    "--datetime",
    "interval",
    metavar="START/END",
    help="Observation (capture) time: an instant or START/END, either side '..'.",
)
@click.option("--bbox", metavar="W,S,E,N", help="Only annotations meeting this box (degrees).")
@click.option("--author", help="Only annotations drawn by this user.")
@click.option("--report", type=int, help="Only annotations a report (its id) rests on.")
@click.option("--event", type=int, help="Only annotations grouped into an event (its id).")
@click.option("--include-deleted", is_flag=True, help="Also deleted annotations.")
@click.option(
    "--copy-images",
    is_flag=True,
    help="stac: copy each COG into the catalogue rather than link to the data folder.",
)
@click.option("--chip-size", type=int, help="coco, yolo: chip width and height in pixels [512].")
@click.option("--overlap", type=int, help="coco, yolo: pixels shared by neighbouring chips [64].")
@click.option("--empty-chips", is_flag=True, help="coco, yolo: also chips with no annotation.")
@click.option("--json", "as_json", is_flag=True)
@friendly
def export_command(
    format_name: str,
    output: Path,
    site: str | None,
    image: str | None,
    label: str | None,
    status: str | None,
    interval: str | None,
    bbox: str | None,
    author: str | None,
    report: int | None,
    event: int | None,
    include_deleted: bool,
    copy_images: bool,
    chip_size: int | None,
    overlap: int | None,
    empty_chips: bool,
    as_json: bool,
) -> None:
    """Export annotations to a GIS format (or a STAC catalogue), with their provenance."""
    from annotations.exchange import Selection, export, get_format
    from annotations.search import Filters, parse_bbox
    from annotations.times import parse_interval

    fmt = get_format(format_name)
    start, end = parse_interval(interval) if interval else (None, None)
    filters = Filters(
        bbox=parse_bbox(bbox) if bbox else None,
        site=site,
        image=image,
        label=label,
        status=tuple(s for s in (status or "").split(",") if s),
        start=start,
        end=end,
        author=author,
        report=report,
        event=event,
        include_deleted=include_deleted,
    )
    options = {"images": "copy"} if copy_images else {}
    chips = {"chip_size": chip_size, "overlap": overlap, "empty_chips": empty_chips or None}
    options |= {name: str(value) for name, value in chips.items() if value is not None}
    app = load_app()
    selection = Selection(
        database=services.database(app),
        filters=filters,
        taxonomy=services.taxonomy(app),
        images_dir=app.config["IMAGES_DIR"],
        options=options,
    )
    if label:
        selection.taxonomy.get(label)  # an unknown label is an error, not an empty file
    written = export(selection, fmt.name, output)
    plural = "" if written == 1 else "s"
    emit(
        as_json,
        {"format": fmt.name, "path": str(output), "annotations": written},
        [f"wrote {written} annotation{plural} to {output} ({fmt.title})"],
    )


if __name__ == "__main__":
    main()


@main.command()
@click.argument("report", type=click.IntRange(1))
@click.option("--by", "editor", required=True, help="The editor who publishes (a user name).")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Folder for the map, the figure and the bundle.",
)
@click.option(
    "--width",
    default=2400,
    show_default=True,
    help="Figure width in pixels.",
    type=click.IntRange(MIN_SIDE_PX, MAX_SIDE_PX),
)
@click.option("--json", "as_json", is_flag=True)
@friendly
def publish(report: int, editor: str, output: Path, width: int, as_json: bool) -> None:
    """Publish REPORT's evidence and write its map, figure (PNG, SVG) and evidence bundle.

    Refused, with nothing written, when a linked annotation is not approved or was deleted."""
    from annotations.annotation import Actor
    from annotations.newsroom import publishing, reports
    from annotator import story

    app = load_app()
    database = services.database(app)
    images_dir = Path(app.config["IMAGES_DIR"])
    try:
        with app.app_context(), database.write() as session:
            user = get_user(session, editor)
            found = reports.get_report(session, report, Role.admin)
            who = Actor(user.name, user.role)
            labels = services.taxonomy(app)
            publication = publishing.publish(session, found, who, images_dir, labels)
            evidence = publishing.frozen_evidence(publication, images_dir)
            # still inside the transaction: if an output fails, nothing is published
            written = story.write_outputs(
                evidence, publication, output, width, signing_key=story.signing_key()
            )
            payload = publication.to_dict() | {
                "embed_path": f"/embed/{found.embed_token}",
                "files": [str(path) for path in written],
            }
    finally:
        database.dispose()
    lines = [
        f"published report {report} as publication {payload['number']} "
        f"(sha256 {payload['sha256']})",
        f"embed: {payload['embed_path']}",
        *(f"wrote {path}" for path in payload["files"]),
    ]
    emit(as_json, payload, lines)
