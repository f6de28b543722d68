"""The timeline drawing as SVG markup, written here rather than in a template: a month can
hold several hundred bars, and one formatted string per bar renders many times faster than
a template loop. Every text is escaped; coordinates are numbers the drawing computed."""

from __future__ import annotations

from markupsafe import Markup, escape

from web.desk.timeline import BAR_H, Drawing


def _bar(bar_key: str, css: str, x: float, width: float, y: int, words: str, start: str,
         end: str, user: str, label: str, patterned: bool, pattern: str) -> str:  # fmt: skip
    hatch = (
        f'<rect x="{x}%" y="{y}" width="{width}%" height="{BAR_H}" rx="3" '
        f'fill="url(#{pattern})" class="pattern"></rect>'
        if patterned
        else ""
    )
    return (
        f'<a href="#{bar_key}" class="bar {css}" data-details="{words}" data-start="{start}" '
        f'data-end="{end}" data-user="{user}"><title>{words}</title>'
        f'<rect x="{x}%" y="{y}" width="{width}%" height="{BAR_H}" rx="3"></rect>{hatch}'
        f'<svg x="{x}%" y="{y}" width="{width}%" height="{BAR_H}"><text x="5" y="20">{label}'
        "</text></svg></a>"
    )


def draw(d: Drawing, caption: str, figure_id: str, since: str, until: str) -> Markup:
    """The ``<figure>`` with the drawing (bars link to their line in the shift list)."""
    pattern = f"{figure_id}-hatch"
    out = [
        f'<figure class="tl-figure" id="{escape(figure_id)}" data-since="{escape(since)}" '
        f'data-until="{escape(until)}">'
        f'<figcaption class="visually-hidden">{escape(caption)}</figcaption>'
        f'<svg class="tl" width="100%" height="{d.height}" role="group" '
        f'aria-label="{escape(caption)}"><defs><pattern id="{escape(pattern)}" width="8" '
        'height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="3" height="8" class="hatch"></rect></pattern></defs>'
    ]
    for t in d.ticks:
        major = " major" if t.major else ""
        odd = " odd" if t.odd else ""
        out.append(
            f'<line x1="{t.x}%" x2="{t.x}%" y1="18" y2="{d.height}" class="tick{major}"></line>'
            f'<text x="{t.x}%" dx="3" y="13" class="tick-label{odd}">{escape(t.label)}</text>'
        )
    for row in d.rows:
        out.append(
            f'<text x="4" y="{row.label_y}" class="row-label">{escape(row.label)}</text>'
            f'<rect x="0" y="{row.bar_y}" width="100%" height="{BAR_H}" class="lane"></rect>'
        )
        out.extend(
            _bar(
                escape(b.key),
                b.css,
                b.x,
                b.width,
                row.bar_y,
                escape(b.words),
                b.start.isoformat(),
                b.end.isoformat(),
                escape(b.user_id or ""),
                escape(b.label),
                b.kind != "shift",
                escape(pattern),
            )
            for b in row.bars
        )
    for x, css, label, anchor in (
        (d.marker_x, "marker", d.marker_label, ' dx="3"'),
        (d.now_x, "now", "Now", ' dx="-3"'),
    ):
        if x is not None:
            out.append(
                f'<line x1="{x}%" x2="{x}%" y1="16" y2="{d.height}" class="{css}"></line>'
                f'<text x="{x}%"{anchor} y="{d.height - 4}" class="{css}-label">'
                f"{escape(label)}</text>"
            )
    out.append('</svg><div class="tl-popup" hidden role="status"></div></figure>')
    return Markup("".join(out))  # noqa: S704 -- every text above is escaped; the rest numbers
