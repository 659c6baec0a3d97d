"""The annotated figure of a published report: which capture, which outlines, what caption.

The picture itself is drawn by `imagery.figure` from plain geometries and colours; this module
only chooses them from the `Evidence`, so the figure shows exactly what was published
(coarsened geometries included) and credits the capture it was cut from.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from shapely.geometry import shape
from shapely.ops import unary_union

from annotations.errors import InvalidInput, NotFound
from annotations.newsroom.credits import capture_date, evidence_notes, image_credit, label_colour
from annotations.newsroom.evidence import Evidence, EvidenceAnnotation, EvidenceImage
from annotations.newsroom.figure_words import figure_language, right_to_left, scale_words, word
from imagery.figure import FigureSpec, Overlay, render_png, render_svg
from imagery.georef.placement import metres

#: the longest caption an editor may write for a figure
CAPTION_MAX = 1000


@dataclass(frozen=True)
class FigureChoice:
    """The capture a figure is cut from and the annotations drawn on it."""

    image: EvidenceImage
    annotations: tuple[EvidenceAnnotation, ...]
    #: chosen annotations marked the same object as another one drawn: not drawn again
    merged: tuple[EvidenceAnnotation, ...] = ()


def merged_away(annotations: Iterable[EvidenceAnnotation]) -> set[str]:
    """Ids of the annotations marked the same object as another one among them (published
    features carry `same_as`): each object is drawn and counted once, as that other one."""
    shown = list(annotations)
    present = {annotation.id for annotation in shown}
    return {
        annotation.id
        for annotation in shown
        if annotation.feature.get("properties", {}).get("same_as") in present
    }


def figure_png(
    evidence: Evidence,
    *,
    width_px: int = 2400,
    height_px: int | None = None,
    dpi: int = 300,
    annotation_ids: Iterable[str] | None = None,
    caption: str | None = None,
) -> bytes:
    """A PNG of exactly width_px x height_px (height from the crop when None), dpi recorded."""
    return render_png(
        figure_spec(
            evidence,
            width_px=width_px,
            height_px=height_px,
            dpi=dpi,
            annotation_ids=annotation_ids,
            caption=caption,
        )
    )


def figure_svg(
    evidence: Evidence,
    *,
    width_px: int = 2400,
    height_px: int | None = None,
    dpi: int = 300,
    annotation_ids: Iterable[str] | None = None,
    caption: str | None = None,
) -> str:
    return render_svg(
        figure_spec(
            evidence,
            width_px=width_px,
            height_px=height_px,
            dpi=dpi,
            annotation_ids=annotation_ids,
            caption=caption,
        )
    )


def figure_spec(
    evidence: Evidence,
    *,
    width_px: int = 2400,
    height_px: int | None = None,
    dpi: int = 300,
    annotation_ids: Iterable[str] | None = None,
    caption: str | None = None,
) -> FigureSpec:
    """The figure's parts; `caption`, when given, is an editor's own caption in place of the
    one written for it (in the report's language: English or Arabic)."""
    choice = choose(evidence, annotation_ids)
    language = figure_language(evidence.report.language)
    overlays = tuple(
        Overlay(
            geometry=shape(annotation.feature["geometry"]),
            colour=label_colour(annotation),
            label=_label(annotation),
        )
        for annotation in choice.annotations
    )
    return FigureSpec(
        cog_path=choice.image.cog_path,
        focus=unary_union([overlay.geometry for overlay in overlays]),
        overlays=overlays,
        caption=(caption or "").strip() or written_caption(evidence, choice, language),
        credit=credit_lines(evidence, choice.image, language),
        width_px=width_px,
        height_px=height_px,
        dpi=dpi,
        words=scale_words(language),
        # the figure's own words read in the report's direction; an editor's, in their own
        caption_rtl=None if (caption or "").strip() else right_to_left(language),
        credit_rtl=right_to_left(language),
    )


def choose(evidence: Evidence, annotation_ids: Iterable[str] | None = None) -> FigureChoice:
    """The asked annotations (all on one capture), or by default every annotation on the
    capture that holds the most of them."""
    if annotation_ids is None:
        if not evidence.annotations:
            raise InvalidInput("the report's evidence has no annotations to draw a figure of")
        counts = Counter(annotation.image_id for annotation in evidence.annotations)
        image_id = max(counts, key=lambda key: counts[key])  # first of the most frequent
        chosen = tuple(a for a in evidence.annotations if a.image_id == image_id)
    else:
        wanted = list(dict.fromkeys(annotation_ids))
        by_id = {annotation.id: annotation for annotation in evidence.annotations}
        missing = [key for key in wanted if key not in by_id]
        if missing:
            raise NotFound(
                "these annotations are not in the report's published evidence: "
                + ", ".join(missing),
                details={"missing": missing},
            )
        if not wanted:
            raise InvalidInput("choose at least one annotation for the figure")
        chosen = tuple(by_id[key] for key in wanted)
        images = sorted({annotation.image_id for annotation in chosen})
        if len(images) > 1:
            raise InvalidInput(
                "a figure shows one capture, but the chosen annotations are on "
                f"{len(images)} images ({', '.join(images)}); choose annotations of one image",
                details={"images": images},
            )
        image_id = images[0]
    try:
        image = evidence.image(image_id)
    except KeyError:
        raise NotFound(f"image {image_id} is not in the report's evidence") from None
    folded = merged_away(chosen)
    return FigureChoice(
        image=image,
        annotations=tuple(a for a in chosen if a.id not in folded),
        merged=tuple(a for a in chosen if a.id in folded),
    )


def written_caption(evidence: Evidence, choice: FigureChoice, language: str) -> str:
    """The publication's caption in English; the figure's own, translated, in Arabic."""
    if language == "en":
        return evidence.caption or default_caption(evidence, choice)
    return default_caption(evidence, choice, language)


def default_caption(evidence: Evidence, choice: FigureChoice, language: str = "en") -> str:
    counts = Counter(annotation.label_name for annotation in choice.annotations)
    merged = Counter(annotation.label_name for annotation in choice.merged)
    things = word(language, "list").join(
        word(language, "merged", name=_counted(language, name, count), count=merged[name])
        if merged[name]
        else _counted(language, name, count)
        for name, count in counts.items()
    )
    where = word(language, "at", site=evidence.site_name) if evidence.site_name else ""
    when = word(language, "on", date=capture_date(choice.image)) if choice.image.captured_at else ""
    return things + where + when + word(language, "evidence_for", title=evidence.report.title)


def _counted(language: str, name: str, count: int) -> str:
    return word(language, "count", count=count, name=name) if count > 1 else name


def credit_lines(evidence: Evidence, image: EvidenceImage, language: str = "en") -> tuple[str, ...]:
    if language == "en":
        return (image_credit(image), *evidence_notes(evidence, [image]))
    parts = [
        word(language, "captured", date=capture_date(image))
        if image.captured_at
        else word(language, "date_unknown"),
        word(language, "image", provider=image.provider)
        if image.provider
        else word(language, "provider_unknown"),
        word(language, "licence", licence=image.licence)
        if image.licence
        else word(language, "licence_unknown"),
    ]
    if image.attribution:
        parts.append(image.attribution)
    if image.placement_error_m is not None and image.placement_points:
        rmse = metres(image.placement_error_m)
        parts.append(word(language, "placed", count=image.placement_points, rmse=rmse))
    notes = [word(language, "coarsened", how=evidence.coarsening)] if evidence.coarsening else []
    if image.synthetic:
        notes.append(word(language, "synthetic"))
    return (" \u00b7 ".join(parts), *notes)


def _label(annotation: EvidenceAnnotation) -> str:
    if annotation.confidence and annotation.confidence != "confirmed":
        return f"{annotation.label_name} ({annotation.confidence})"
    return annotation.label_name
