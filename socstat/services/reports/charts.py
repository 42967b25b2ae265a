"""Server-side charts without a browser: reactions per day as bars, as SVG (PDF) or PNG
(email, where SVG images are not shown by most mail clients). An unknown day has no bar
and is marked «—» under its date."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from io import BytesIO

from PIL import Image, ImageDraw, ImageFont

from socstat.services.reports.data import ChartPoint

WIDTH, HEIGHT = 900, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 70, 20, 30, 50
_BAR = "#305496"
_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
TITLE = "Реакции (лайки + репосты + комментарии) по дням"


@dataclass(frozen=True)
class _Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int | None


def _layout(points: list[ChartPoint]) -> tuple[list[_Bar], int]:
    top = max((p.reactions or 0 for p in points), default=0) or 1
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    step = plot_w / max(len(points), 1)
    bars = []
    for index, point in enumerate(points):
        value = point.reactions
        height = 0.0 if value is None else plot_h * value / top
        bars.append(
            _Bar(
                x=_LEFT + index * step + step * 0.15,
                y=_TOP + plot_h - height,
                width=step * 0.7,
                height=height,
                label=f"{point.day:%d.%m}",
                value=value,
            )
        )
    return bars, top


def _label_every(count: int) -> int:
    return max(1, count // 12)


def chart_svg(points: list[ChartPoint]) -> str:
    bars, top = _layout(points)
    base = HEIGHT - _BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="DejaVu Sans" font-size="11">',
        f'<text x="{_LEFT}" y="18" font-size="13" font-weight="bold">{escape(TITLE)}</text>',
        f'<line x1="{_LEFT}" y1="{base}" x2="{WIDTH - _RIGHT}" y2="{base}" stroke="#999"/>',
        f'<text x="{_LEFT - 6}" y="{_TOP + 4}" text-anchor="end">{top:,}</text>'.replace(",", " "),
        f'<text x="{_LEFT - 6}" y="{base}" text-anchor="end">0</text>',
    ]
    every = _label_every(len(bars))
    for index, bar in enumerate(bars):
        if bar.value is not None:
            parts.append(
                f'<rect x="{bar.x:.1f}" y="{bar.y:.1f}" width="{bar.width:.1f}" '
                f'height="{bar.height:.1f}" fill="{_BAR}"/>'
            )
        if index % every == 0 or bar.value is None:
            label = bar.label if bar.value is not None else f"{bar.label} —"
            parts.append(
                f'<text x="{bar.x + bar.width / 2:.1f}" y="{base + 16}" '
                f'text-anchor="middle">{label}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(_FONT, size)
    except OSError:  # DejaVu not installed: Pillow's own font (it has Cyrillic since 10.1)
        return ImageFont.load_default(size)


def chart_png(points: list[ChartPoint]) -> bytes:
    bars, top = _layout(points)
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font, title = _font(12), _font(14)
    base = HEIGHT - _BOTTOM
    draw.text((_LEFT, 6), TITLE, fill="black", font=title)
    draw.line((_LEFT, base, WIDTH - _RIGHT, base), fill="#999999")
    draw.text((_LEFT - 6, _TOP), f"{top:,}".replace(",", " "), fill="black", font=font, anchor="ra")
    draw.text((_LEFT - 6, base), "0", fill="black", font=font, anchor="rb")
    every = _label_every(len(bars))
    for index, bar in enumerate(bars):
        if bar.value is not None and bar.height > 0:
            draw.rectangle((bar.x, bar.y, bar.x + bar.width, base), fill=_BAR)
        if index % every == 0 or bar.value is None:
            label = bar.label if bar.value is not None else f"{bar.label} —"
            draw.text(
                (bar.x + bar.width / 2, base + 6), label, fill="black", font=font, anchor="ma"
            )
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
