"""Commands for sites and images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from annotations import jsontext
from annotations.times import parse_time
from annotator import services
from annotator.cli.common import emit, friendly, load_app, main


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
    app = load_app()
    with services.database(app).write() as session:
        site = add_site(session, name, area, slug=slug)
        payload = site.to_dict()
    emit(
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

    app = load_app()
    with services.database(app).read() as session:
        payload = [site.to_dict() for site in list_sites(session)]
    emit(
        as_json,
        payload,
        [f"{s['slug']}\t{s['name']}\t{len(s['image_ids'])} images" for s in payload],
    )


@main.group()
def images() -> None:
    """The image catalogue."""


@images.command("import")
@click.argument("paths", nargs=-1, required=True)
@click.option("--site", "site_slugs", multiple=True, help="Attach to this site (repeatable).")
@click.option("--captured", help="Capture time, ISO 8601, when the TIFF has no date tag.")
@click.option("--provider")
@click.option("--sensor")
@click.option("--licence")
@click.option("--attribution")
@click.option(
    "--height",
    type=float,
    help="Ground height in metres for images placed by RPCs (default 0; ANNOTATOR_DEM wins).",
)
@click.option("--json", "as_json", is_flag=True)
@friendly
def images_import(
    paths: tuple[str, ...],
    site_slugs: tuple[str, ...],
    captured: str | None,
    provider: str | None,
    sensor: str | None,
    licence: str | None,
    attribution: str | None,
    height: float | None,
    as_json: bool,
) -> None:
    """Import GeoTIFFs / COGs, JPEG 2000 or NITF files, or URLs (http, https, s3://bucket/key
    with the AWS_* credentials): all of them, or none if one fails."""
    from annotations.catalogue.images import Provenance
    from annotator.intake import import_images, ingest_limits
    from annotator.jobs.setup import terminal_progress
    from imagery.remote.copy import gdal_path

    for path in paths:
        if "://" in path:
            gdal_path(path)  # refuses what is not http(s):// or s3://
        elif not Path(path).is_file():
            raise click.ClickException(f"{path}: no such file")
    when = parse_time(captured, "--captured") if captured else None
    provenance = Provenance(
        provider=provider, sensor=sensor, licence=licence, attribution=attribution
    )
    app = load_app()
    results = import_images(
        services.database(app),
        app.config["IMAGES_DIR"],
        _uploads(app, paths),  # URLs copied first
        provenance,
        sites=site_slugs,
        height=height,
        dem=Path(app.config["DEM"]) if app.config.get("DEM") else None,
        captured=when,
        max_pixels=int(app.config["MAX_IMAGE_PIXELS"]),
        limits=ingest_limits(app.config),
        progress=None if as_json else terminal_progress(),  # a bar on a terminal only
    )
    payload = [r.image.to_dict() | {"created": r.created} for r in results]
    emit(
        as_json,
        payload,
        [
            f"{'imported' if p['created'] else 'already had'} {p['original_filename']} "
            f"as {p['id']} ({p['width']}x{p['height']}, GSD {p['gsd_m']} m, "
            f"captured {p['captured_at'] or 'unknown'}, sites: {', '.join(p['sites']) or '-'})"
            for p in payload
        ],
    )


def _uploads(app: Any, paths: tuple[str, ...]) -> list[Any]:
    """The files to import, in order: a URL is copied first (imagery.remote.copy) into a
    folder of the temporary directory, removed when the command ends."""
    import functools
    import shutil
    import tempfile

    from annotator.import_by_url.request import max_bytes
    from annotator.intake import Upload
    from annotator.jobs.setup import terminal_progress
    from imagery.remote.copy import fetch, file_name, is_url

    uploads = []
    folder: Path | None = None
    for text in paths:
        if not is_url(text):
            uploads.append(Upload(Path(text), Path(text).name))
            continue
        if folder is None:
            root = Path(app.config["TMP_DIR"])
            root.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix="url-", dir=root))
            cleanup = functools.partial(shutil.rmtree, folder, ignore_errors=True)
            click.get_current_context().call_on_close(cleanup)
        name = file_name(text)
        show = terminal_progress()

        def step(done: int, total: int | None, name: str = name, show: Any = show) -> None:
            if show is not None:
                fraction = min(done / total, 0.98) if total else 0.0
                show(fraction, f"downloading {name} ({done:,} bytes)")

        target = folder / f"{len(uploads)}" / name
        target.parent.mkdir()
        uploads.append(
            Upload(fetch(text, target, max_bytes=max_bytes(app.config), progress=step), name)
        )
    return uploads


@images.command("list")
@click.option("--json", "as_json", is_flag=True)
@friendly
def images_list(as_json: bool) -> None:
    """List catalogued images."""
    from annotations.catalogue.images import list_images

    app = load_app()
    with services.database(app).read() as session:
        payload = [image.to_dict() for image in list_images(session)]
    emit(
        as_json,
        payload,
        [
            f"{p['id']}\t{p['captured_at'] or 'unknown'}\t{p['gsd_m']} m\t"
            f"{p['provider'] or '-'}\t{p['original_filename']}"
            for p in payload
        ],
    )


@images.command("georeference")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--gcp",
    "gcps",
    multiple=True,
    required=True,
    help="A control point PX,PY,LON,LAT: pixel (origin at the top-left corner of the "
    "picture) and its WGS 84 position. At least 3.",
)
@click.option(
    "--method",
    type=click.Choice(["affine", "polynomial", "tps"]),
    default="affine",
    show_default=True,
)
@click.option("--captured", help="Capture date as stated, ISO 8601 (unknown when omitted).")
@click.option("--provider")
@click.option("--licence")
@click.option("--attribution", help="The credit line as published.")
@click.option("--source-url", help="The article's or press release's URL.")
@click.option("--site", "site_slugs", multiple=True, help="Attach to this site (repeatable).")
@click.option("--reference", help="The id of the capture of the same site the points came from.")
@click.option("--json", "as_json", is_flag=True)
@friendly
def images_georeference(
    path: Path,
    gcps: tuple[str, ...],
    method: str,
    captured: str | None,
    provider: str | None,
    licence: str | None,
    attribution: str | None,
    source_url: str | None,
    site_slugs: tuple[str, ...],
    reference: str | None,
    as_json: bool,
) -> None:
    """Place a press picture (JPEG, PNG, WebP or a screenshot) by control points and
    catalogue it as a capture, its error (RMSE and residuals in metres) stated."""
    from annotator.georeference.placing import Details, place_press, result
    from annotator.jobs.setup import terminal_progress
    from imagery.press.fit import parse_gcp_option

    if not path.is_file():
        raise click.ClickException(f"{path}: no such file")
    points = [parse_gcp_option(text) for text in gcps]
    details = Details(
        source_url=source_url,
        provider=provider,
        licence=licence,
        attribution=attribution,
        captured=parse_time(captured, "--captured") if captured else None,
        sites=site_slugs,
        reference=reference,
    )
    app = load_app()
    placed = place_press(
        services.database(app),
        app.config,
        path,
        path.name,
        points,
        method,
        details,
        progress=None if as_json else terminal_progress(),
    )
    for warning in placed.fit.warnings:
        click.echo(f"warning: {warning}", err=True)
    payload = result(placed)
    fitted = payload["georeference"]
    emit(
        as_json,
        payload,
        [
            f"placed {payload['original_filename']} as {payload['id']} by {len(points)} "
            f"control points ({method}), RMSE {fitted['rmse_m']} m; residuals (m): "
            + ", ".join(f"{r:g}" for r in fitted["residuals_m"])
        ],
    )
