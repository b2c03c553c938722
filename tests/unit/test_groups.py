"""Decode groups and output planning of a batch: pure arithmetic."""

from __future__ import annotations

from service.imaging.formats import OutputFormat
from service.imaging.groups import decode_groups, estimate_seconds, plan_outputs
from service.imaging.options import ConvertOptions

W = ConvertOptions()


def test_jpeg_widths_split_by_shrink_and_merge_down_to_the_worker_count():
    groups = decode_groups(3840, "jpeg", W, (320, 640, 1280, 1920, 3840, 200), max_groups=2)
    assert [g.top for g in groups] == [3840, 640]
    assert sorted(w for g in groups for w in g.widths) == [200, 320, 640, 1280, 1920, 3840]
    assert len(decode_groups(3840, "jpeg", W, (320, 640, 1280), max_groups=8)) == 3


def test_other_inputs_decode_once_and_crops_per_width():
    assert len(decode_groups(3840, "png", W, (320, 640, 1280), max_groups=4)) == 1
    cover = ConvertOptions(height=100, fit="cover")
    assert [g.widths for g in decode_groups(3840, "jpeg", cover, (100, 300), 4)] == [(300,), (100,)]
    assert decode_groups(3840, "jpeg", W, (None, 320), 4)[0].top is None  # original size is the largest


def test_plan_outputs_sizes_names_each_output_once_largest_first():
    groups, outputs = plan_outputs(
        1200, 800, "jpeg", W, (200, 1200, 1600), (50, 80), (OutputFormat.JPEG, OutputFormat.WEBP), max_groups=2
    )
    sizes = [(o.width, o.height, o.quality, o.format.value) for o in outputs]
    assert len(sizes) == len(set(sizes)) == 8  # 1600 > 1200 without enlarge: the same output as 1200
    assert sizes[0][:2] == (1200, 800) and sizes[-1][:2] == (200, 133)
    assert all(0 <= o.group < len(groups) for o in outputs)
    # the original's size, asked through 1200 and 1600, carries the smallest width that asked for it
    assert {o.requested_width for o in outputs if o.width == 1200} == {1200}


def test_estimate_grows_with_format_cost_and_shrinks_with_workers():
    _, jpegs = plan_outputs(3840, 2400, "jpeg", W, (3840,), (80,), (OutputFormat.JPEG,), 2)
    groups, avifs = plan_outputs(3840, 2400, "jpeg", W, (3840, 1920), (40, 60), (OutputFormat.AVIF,), 2)
    assert estimate_seconds(3840 * 2400, groups, jpegs, 2) < 1 < estimate_seconds(3840 * 2400, groups, avifs, 2)
    assert estimate_seconds(3840 * 2400, groups, avifs, 4) < estimate_seconds(3840 * 2400, groups, avifs, 1)
