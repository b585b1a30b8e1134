"""Small inline SVG charts: no image files, no network, no plotting library to import."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 420, 170
PAD_L, PAD_R, PAD_T, PAD_B = 36, 10, 14, 34


def histogram_bins(rewards: Sequence[float], bins: int = 10) -> tuple[list[int], float, float]:
    """Counts of ``rewards`` in ``bins`` equal bins over [min(0, lo), max(1, hi)]."""
    lo = min([0.0, *rewards])
    hi = max([1.0, *rewards])
    counts = [0] * bins
    width = (hi - lo) / bins
    for value in rewards:
        index = min(bins - 1, int((value - lo) / width)) if width > 0 else 0
        counts[index] += 1
    return counts, lo, hi


def reward_histogram(
    rewards: Sequence[float], errors: int = 0, *, title: str = "", bins: int = 10
) -> str:
    """An SVG histogram of per-example rewards, with errored examples as a red bar."""
    counts, lo, hi = histogram_bins(rewards, bins)
    columns = [*counts, errors] if errors else counts
    top = max([1, *columns])
    plot_w = WIDTH - PAD_L - PAD_R
    plot_h = HEIGHT - PAD_T - PAD_B
    slot = plot_w / len(columns)
    parts = [
        f'<svg class="hist" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{PAD_L}" y1="{PAD_T + plot_h}" x2="{WIDTH - PAD_R}" '
        f'y2="{PAD_T + plot_h}" class="axis"/>',
        f'<text x="4" y="{PAD_T + 8}" class="tick">{top}</text>',
        f'<text x="4" y="{PAD_T + plot_h}" class="tick">0</text>',
    ]
    step = (hi - lo) / bins
    for i, count in enumerate(columns):
        is_error = errors and i == len(columns) - 1
        h = 0.0 if count == 0 else max(1.0, plot_h * count / top)
        x = PAD_L + i * slot + 1
        y = PAD_T + plot_h - h
        label = "errors" if is_error else f"[{lo + i * step:.2g}, {lo + (i + 1) * step:.2g})"
        css = "bar err" if is_error else "bar"
        parts.append(
            f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{max(1.0, slot - 2):.1f}" '
            f'height="{h:.1f}"><title>{escape(label)}: {count}</title></rect>'
        )
        if count:
            parts.append(
                f'<text x="{x + (slot - 2) / 2:.1f}" y="{y - 2:.1f}" class="count">{count}</text>'
            )
    for i, value in enumerate((lo, (lo + hi) / 2, hi)):
        x = PAD_L + i * (bins * slot) / 2
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - PAD_B + 14}" class="tick mid">{_num(value)}</text>'
        )
    if errors:
        x = PAD_L + bins * slot + slot / 2
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - PAD_B + 14}" class="tick mid">err</text>')
    parts.append(
        f'<text x="{PAD_L + plot_w / 2:.1f}" y="{HEIGHT - 4}" class="tick mid">reward</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _num(value: float) -> str:
    return str(int(value)) if math.isclose(value, round(value)) else f"{value:.2g}"
