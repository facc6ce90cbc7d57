"""Server-drawn charts: round gridlines, one point per label, figures on hover, text escaped."""

from __future__ import annotations

import re

import pytest

from inboxerr.charts import HEIGHT, TOP, Series, line_chart, nice_ceiling


@pytest.mark.parametrize(
    ("largest", "top"), [(0, 4), (3, 4), (10, 20), (1234, 2000), (2000, 2000), (2001, 4000), (99_999, 100_000)]
)
def test_the_scale_tops_out_at_a_round_figure_at_or_above_the_largest(largest, top):
    assert nice_ceiling(largest) == top


def test_a_line_has_a_point_per_label_the_largest_at_the_top_and_zero_at_the_bottom():
    svg = line_chart(["a", "b", "c"], [Series("sent", "sent", [0, 4, 2])], title="Sent")

    points = re.search(r'class="line sent" points="([^"]+)"', svg).group(1).split()
    ys = [float(point.split(",")[1]) for point in points]
    assert len(points) == 3
    assert ys[1] == TOP
    assert ys[0] == HEIGHT - 24
    assert "<title>b: 4 sent</title>" in svg


def test_labels_are_thinned_from_the_newest_back_and_text_is_escaped():
    svg = line_chart([f"<{n}>" for n in range(5)], [Series("sent", "sent", [1] * 5)], title="x", label_every=2)

    labels = re.findall(r'text-anchor="middle">([^<]*)<', svg)
    assert labels == ["&lt;0&gt;", "&lt;2&gt;", "&lt;4&gt;"]
