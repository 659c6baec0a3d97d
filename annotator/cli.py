"""The `annotator` command line.

Every command prints one clear line on stderr and exits non-zero on bad input, and
changes nothing when it fails.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask

from annotations import disk, jsontext
from annotations.catalogue.users import (
    FULL,
    SCOPES,
    Role,
    add_user,
    change_user,
    create_token,
    get_user,
    revoke_tokens,
)
from annotations.errors import AnnotationError
from annotations.schema import check_ready, upgrade
from annotations.times import parse_time
from annotator import logs, services
from annotator.config import ConfigError
from annotator.serving import CLIENT_TIMEOUT_S, gunicorn_argv, metrics_folder
from imagery.errors import ImageryError
from imagery.sizes import MAX_SIDE_PX, MIN_SIDE_PX

F = TypeVar("F", bound=Callable[..., Any])


def _app(*, ready: bool = True) -> Flask:
    """The app on the configured data folder; with `ready`, refused (one line) unless its
    database is at this version's schema, which only `annotator init` makes or upgrades."""
    from annotator import create_app

    try:
        app = create_app()
        if ready:
            check_ready(services.database(app))
        return app
    except (ConfigError, AnnotationError) as exc:
        raise click.ClickException(disk.MESSAGE if disk.is_out_of_space(exc) else str(exc)) from exc


def friendly(command: F) -> F:
    """Turn domain errors into one line on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (AnnotationError, ImageryError, ValueError) as exc:
            if disk.is_out_of_space(exc):
                raise click.ClickException(disk.MESSAGE) from exc
            message = " ".join(str(exc).split())
            raise click.ClickException(message) from exc
        except Exception as exc:
            if disk.is_out_of_space(exc):  # OSError, SQLite's or PostgreSQL's "disk full"
                raise click.ClickException(disk.MESSAGE) from exc
            raise

    return wrapped  # type: ignore[return-value]


def _emit(as_json: bool, payload: Any, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        for line in lines:
            click.echo(line)


@click.group()
def main() -> None:
    """Annotate satellite imagery and tie it to news reports."""
    try:
        logs.configure_command(os.environ)  # only with ANNOTATOR_LOG_LEVEL set
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@friendly
def init() -> None:
    """Create or upgrade the data folder and database (idempotent)."""
    app = _app(ready=False)
    revision = upgrade(services.database(app))
    click.echo(f"data folder {app.config['DATA_DIR']} ready (schema {revision})")


@main.command()
@friendly
def demo() -> None:
    """Load the demo: synthetic Hmeimim scene, the real sample rasters, demo users."""
    from annotator.demo.loader import load_demo

    app = _app(ready=False)  # it initialises the data folder itself
    upgrade(services.database(app))
    with app.app_context():
        for line in load_demo(app):
            click.echo(line)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--client-timeout",
    default=CLIENT_TIMEOUT_S,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Seconds a connection may idle, take to send a request's headers, or leave a "
    "response unread, before it is closed.",
)
def serve(host: str, port: int, workers: int, threads: int, client_timeout: int) -> None:
    """Serve the app: gunicorn processes, each buffering requests with waitress."""
    app = _app()  # fail here, with one line, on bad configuration
    metrics_folder(app.config["TMP_ROOT"])  # the workers' metrics, summed by /metrics
    argv = [sys.executable, *gunicorn_argv(host, port, workers, threads, client_timeout)]
    # each worker renders on one core; BLAS thread pools would only fight the other workers
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    from annotator.jobs.setup import start_embedded

    start_embedded(int(app.config["JOBS_THREADS"]))  # one job worker per serve (see there)
    os.execv(sys.executable, argv)  # noqa: S606


@main.command()
@click.option("--threads", type=click.IntRange(1, 64), help="Jobs at once [ANNOTATOR_JOBS_THREADS]")
@click.option("--parent", type=int, hidden=True)
@friendly
def worker(threads: int | None, parent: int | None) -> None:
    """Run background jobs (ingest) until stopped (Ctrl-C, SIGTERM); see annotator.jobs.setup."""
    from annotator.jobs.setup import run_worker

    run_worker(_app(), threads, parent)


@main.group()
def sites() -> None:
    """Areas of interest such as an air base or a port."""


@sites.command("add")
@click.argument("name")
@click.option("--lon", type=float, help="Longitude of the centre (WGS 84).")
@click.option("--lat", type=float, help="Latitude of the centre (WGS 84).")
@click.option("--radius-m", type=float, default=3000.0, show_default=True)
@click.option("--geojson", "geojson_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--slug", help="URL name; made from NAME when omitted.")
@click.option("--json", "as_json", is_flag=True)
@friendly
def sites_add(
    name: str,
    lon: float | None,
    lat: float | None,
    radius_m: float,
    geojson_file: Path | None,
    slug: str | None,
    as_json: bool,
) -> None:
    """Add a site, as a circle around --lon/--lat or a polygon from --geojson."""
    from annotations.catalogue.geo import area_polygon, geodesic_circle
    from annotations.catalogue.sites import add_site

    if geojson_file is not None:
        try:
            data = jsontext.loads(geojson_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise click.ClickException(f"cannot read {geojson_file}: {exc.strerror}") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"{geojson_file} is not valid JSON: {exc}") from exc
        area = area_polygon(data)
    elif lon is not None and lat is not None:
        area = geodesic_circle(lon, lat, radius_m)
    else:
        raise click.ClickException("give --lon and --lat (and --radius-m), or --geojson FILE")
    app = _app()
    with services.database(app).write() as session:
        site = add_site(session, name, area, slug=slug)
        payload = site.to_dict()
    _emit(
        as_json,
        payload,
        [f"added site {payload['slug']} ({len(payload['image_ids'])} images attached)"],
    )


@sites.command("list")
@click.option("--json", "as_json", is_flag=True)
@friendly
def sites_list(as_json: bool) -> None:
    """List sites."""
    from annotations.catalogue.sites import list_sites

    app = _app()
    with services.database(app).read() as session:
        payload = [site.to_dict() for site in list_sites(session)]
    _emit(
        as_json,
        payload,
        [f"{s['slug']}\t{s['name']}\t{len(s['image_ids'])} images" for s in payload],
    )


@main.group()
def images() -> None:
    """The image catalogue."""


@images.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--site", "site_slugs", multiple=True, help="Attach to this site (repeatable).")
@click.option("--captured", help="Capture time, ISO 8601, when the TIFF has no date tag.")
@click.option("--provider")
@click.option("--sensor")
@click.option("--licence")
@click.option("--attribution")
@click.option("--json", "as_json", is_flag=True)
@friendly
def images_import(
    paths: tuple[Path, ...],
    site_slugs: tuple[str, ...],
    captured: str | None,
    provider: str | None,
    sensor: str | None,
    licence: str | None,
    attribution: str | None,
    as_json: bool,
) -> None:
    """Import GeoTIFFs / COGs: all of them, or none if one fails."""
    from annotations.catalogue.images import Provenance
    from annotator.intake import Upload, import_images
    from annotator.jobs.setup import terminal_progress

    for path in paths:
        if not path.is_file():
            raise click.ClickException(f"{path}: no such file")
    when = parse_time(captured, "--captured") if captured else None
    provenance = Provenance(
        provider=provider, sensor=sensor, licence=licence, attribution=attribution
    )
    app = _app()
    results = import_images(
        services.database(app),
        app.config["IMAGES_DIR"],
        [Upload(path, path.name) for path in paths],
        provenance,
        sites=site_slugs,
        captured=when,
        max_pixels=int(app.config["MAX_IMAGE_PIXELS"]),
        progress=terminal_progress(),
    )
    payload = [r.image.to_dict() | {"created": r.created} for r in results]
    _emit(
        as_json,
        payload,
        [
            f"{'imported' if p['created'] else 'already had'} {p['original_filename']} "
            f"as {p['id']} ({p['width']}x{p['height']}, GSD {p['gsd_m']} m, "
            f"captured {p['captured_at'] or 'unknown'}, sites: {', '.join(p['sites']) or '-'})"
            for p in payload
        ],
    )


@images.command("list")
@click.option("--json", "as_json", is_flag=True)
@friendly
def images_list(as_json: bool) -> None:
    """List catalogued images."""
    from annotations.catalogue.images import list_images

    app = _app()
    with services.database(app).read() as session:
        payload = [image.to_dict() for image in list_images(session)]
    _emit(
        as_json,
        payload,
        [
            f"{p['id']}\t{p['captured_at'] or 'unknown'}\t{p['gsd_m']} m\t"
            f"{p['provider'] or '-'}\t{p['original_filename']}"
            for p in payload
        ],
    )


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

    app = _app()
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
    _emit(as_json, report, _import_lines(report))


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


@main.group()
def users() -> None:
    """People who sign in."""


@contextlib.contextmanager
def _users_write() -> Iterator[Any]:
    """A write session on the configured database, whose connections close afterwards."""
    database = services.database(_app())
    try:
        with database.write() as session:
            yield session
    finally:
        database.dispose()


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.name for r in Role]))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@friendly
def users_add(name: str, role: str, password_stdin: bool) -> None:
    """Add a user; without --password-stdin the password is asked for."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _users_write() as session:
        add_user(session, name, Role.parse(role), password)
    click.echo(f"added {role} {name}")


@users.command("set")
@click.argument("name")
@click.option("--role", type=click.Choice([r.name for r in Role]), help="A new role.")
@click.option("--active/--inactive", default=None, help="Switch the account on or off.")
@friendly
def users_set(name: str, role: str | None, active: bool | None) -> None:
    """Change NAME's role, or switch the account off (ends its sessions, revokes its tokens).
    The last active admin cannot be demoted or switched off."""
    if role is None and active is None:
        raise click.UsageError("give --role, --active or --inactive")
    with _users_write() as session:
        user = get_user(session, name)
        change_user(session, user, role=None if role is None else Role.parse(role), active=active)
        state = "active" if user.active else "switched off"
        click.echo(f"{user.name}: {user.role.name}, {state}")


@users.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@friendly
def users_password(name: str, password_stdin: bool) -> None:
    """Set NAME's password; their browser sessions end (API tokens stay)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _users_write() as session:
        change = change_user(session, get_user(session, name), password=password)
    ended = change.sessions_ended
    click.echo(f"new password for {name}; {ended} session{'' if ended == 1 else 's'} ended")


@main.group()
def tokens() -> None:
    """API tokens for scripts."""


@tokens.command("create")
@click.argument("user")
@click.option("--name", "label", default="cli", show_default=True, help="What the token is for.")
@click.option(
    "--scope",
    type=click.Choice(SCOPES),
    default=FULL,
    show_default=True,
    help="full: a bearer token acting as USER; read-tiles: a read-only key for tiles, "
    "TileJSON, WMTS, COG downloads and OGC API reads, passed as ?key= or a Basic password.",
)
@friendly
def tokens_create(user: str, label: str, scope: str) -> None:
    """Print a new bearer token (or read-only key) for USER, once; only its hash is stored."""
    app = _app()
    with services.database(app).write() as session:
        token = create_token(session, get_user(session, user), label, scope)
    click.echo(token)


@tokens.command("revoke")
@click.argument("user")
@click.option("--name", "label", help="Only tokens with this name; all of USER's otherwise.")
@friendly
def tokens_revoke(user: str, label: str | None) -> None:
    """Revoke USER's tokens (all, or those named --name); they stop working at once."""
    app = _app()
    with services.database(app).write() as session:
        count = revoke_tokens(session, get_user(session, user), label)
    click.echo(f"revoked {count} token{'' if count == 1 else 's'} of {user}")


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
        _emit(
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


def _pg_bindir(settings: Any) -> Path | None:
    return Path(settings["PG_BINDIR"]) if settings.get("PG_BINDIR") else None


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the backup's manifest as JSON.")
@friendly
def backup(path: Path, as_json: bool) -> None:
    """Back up the data folder to PATH while the server runs: a new folder, or an
    uncompressed tar when PATH ends in .tar; never over an existing one. It holds the
    database as of one moment (SQLite's backup API, or pg_dump), the COGs it names
    (hard-linked on the same disk), the keys, and a manifest of every file's sha256."""
    from annotations.backup import make_backup, summary
    from annotations.db import Database
    from annotator.config import resolve

    try:  # the settings, not the web app: a backup starts in a fraction of a second
        settings = resolve(None)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    database = Database(str(settings["DATABASE_URL"]))
    try:
        check_ready(database)
        manifest = make_backup(
            database,
            data_dir=Path(settings["DATA_DIR"]),
            images_dir=Path(settings["IMAGES_DIR"]),
            signing_key=Path(settings["SIGNING_KEY_FILE"]),
            target=path,
            pg_bindir=_pg_bindir(settings),
        )
    finally:
        database.dispose()
    _emit(as_json, manifest, [summary.backed_up(path, manifest)])


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Only check every hash of the backup.")
@click.option("--json", "as_json", is_flag=True, help="Print what was restored as JSON.")
@friendly
def restore(path: Path, check: bool, as_json: bool) -> None:
    """Restore the backup PATH (a folder or .tar) into an empty or new data folder
    (ANNOTATOR_DATA_DIR) and, for PostGIS, a database with no tables
    (ANNOTATOR_DATABASE_URL). Every hash is checked first; an older backup is upgraded to
    this version's schema. A changed backup, a non-empty target or a backup from a newer
    version is refused, changing nothing."""
    from annotations.backup import restore_backup, summary, verify_backup
    from annotator.config import resolve

    if check:
        manifest = verify_backup(path)
        payload = {"backup": str(path), "ok": True, "manifest": manifest}
        _emit(as_json, payload, [summary.checked(path, manifest)])
        return
    try:
        # a placeholder secret: resolve() would otherwise write DATA_DIR/secret_key, and the
        # data folder must stay untouched until the restore has found it empty
        settings = resolve({"SECRET_KEY": "unused by restore"})
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    result = restore_backup(
        path,
        data_dir=Path(settings["DATA_DIR"]),
        database_url=str(settings["DATABASE_URL"]),
        signing_key=Path(settings["SIGNING_KEY_FILE"]),
        pg_bindir=_pg_bindir(settings),
    )
    _emit(as_json, result, [summary.restored(path, result)])


@main.group()
def keys() -> None:
    """The server's Ed25519 key that signs evidence bundles (kept in the data folder)."""


@keys.command("public")
@click.option("--json", "as_json", is_flag=True, help="Print {algorithm, sha256, public_key}.")
@friendly
def keys_public(as_json: bool) -> None:
    """Print the public key (PEM) that checks bundle signatures: save it, hand it to readers,
    and check a bundle with `annotator verify BUNDLE --key FILE`. The key pair is made the
    first time it is needed (ANNOTATOR_SIGNING_KEY_FILE, mode 600)."""
    from annotations.newsroom.signing import ALGORITHM, stored_key
    from annotator.config import resolve

    try:
        settings = resolve(None)  # the data folder only: no app, no database
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    key = stored_key(Path(settings["SIGNING_KEY_FILE"]))
    payload = {"algorithm": ALGORITHM, "sha256": key.fingerprint(), "public_key": key.public_pem()}
    _emit(as_json, payload, [key.public_pem().rstrip("\n")])


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
    app = _app()
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
    _emit(
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

    app = _app()
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
    _emit(as_json, payload, lines)
