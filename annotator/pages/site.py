"""The site page: a site's captures by date, what was counted on each, and a chart."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from annotations.timeline import parse_statuses, site_timeline
from annotator import services
from annotator.auth import login_required
from annotator.pages.chart import timeline_chart
from annotator.pages.chart_colours import distinct_colours
from annotator.services import database

bp = Blueprint("timeline", __name__)


@bp.get("/sites/<slug>")
@login_required
def site(slug: str) -> str:
    statuses = parse_statuses(request.args.get("status"))
    taxonomy = services.taxonomy()
    names = {label.id: label.name for label in taxonomy}
    with database().read() as session:
        timeline = site_timeline(session, slug, statuses)
        # look-alike taxonomy colours moved apart, the most counted label keeping its own
        colours = distinct_colours(timeline.labels, {label.id: label.colour for label in taxonomy})
        return render_template(
            "site.html",
            timeline=timeline,
            captures=[(c, c.image.to_dict()) for c in timeline.captures],
            chart=timeline_chart(timeline, names, colours),
            names=names,
            colours=colours,
        )
