from datetime import UTC, datetime

from protocol.charts import (
    Bar,
    Series,
    bar_chart_svg,
    bucket_starts,
    line_chart_svg,
    time_ticks,
    window_parse,
    zero_filled,
)


def test_each_bar_is_labelled_with_its_value_and_scaled_to_the_largest() -> None:
    svg = bar_chart_svg(title="Jobs", bars=[Bar("completed", 40), Bar("failed", 10)], unit=" s")
    assert svg.startswith("<svg")
    assert svg.endswith("</svg>")
    assert ">completed</text>" in svg
    assert ">40 s</text>" in svg
    assert ">10 s</text>" in svg
    # The largest bar spans the plot (640 - 190 - 90 = 360 px); the others are in proportion.
    assert 'width="360.0"' in svg
    assert 'width="90.0"' in svg


def test_an_empty_chart_says_so() -> None:
    svg = bar_chart_svg(title="Nothing", bars=[])
    assert "no data yet" in svg
    assert "<rect" not in svg


def test_labels_and_titles_are_escaped() -> None:
    svg = bar_chart_svg(title="<b>t</b>", bars=[Bar("<script>x</script>", 1)])
    assert "<script>" not in svg
    assert "<b>" not in svg
    assert "&lt;script&gt;" in svg


# --- line charts


def _two_lines() -> str:
    return line_chart_svg(
        title="Score per miner",
        series=[Series("alice", ((1, 2.0), (2, 4.0), (3, 8.0))), Series("bob", ((3, 1.0), (1, 3.0)))],
        x_label="cycle",
        y_label="score",
        unit=" pts",
        marks={2: "skipped: chain error"},
    )


def test_each_series_is_a_line_through_its_points_scaled_to_the_plot() -> None:
    svg = _two_lines()
    assert svg.startswith("<svg")
    assert svg.endswith("</svg>")
    # Plot: x 64..530 (720 - 64 - 190 px wide), y 30..228 (280 - 30 - 52 px high), y from 0 to 8.
    assert '<polyline points="64.0,178.5 297.0,129.0 530.0,30.0"' in svg  # alice
    assert '<polyline points="64.0,153.8 530.0,203.2"' in svg  # bob, sorted by x
    assert svg.count("<polyline") == 2


def test_the_chart_says_what_is_plotted() -> None:
    svg = _two_lines()
    assert 'aria-label="Score per miner"' in svg
    assert ">Score per miner</text>" in svg
    assert ">score</text>" in svg  # y axis
    assert ">cycle</text>" in svg  # x axis
    assert ">8 pts</text>" in svg  # the top of the y axis, with its unit
    assert ">alice 8 pts</text>" in svg  # legend: the last value
    assert ">bob 1 pts</text>" in svg
    assert "<title>alice @ 2: 4 pts</title>" in svg  # each point's tooltip


def test_a_marked_x_is_flagged_with_its_note() -> None:
    svg = _two_lines()
    assert svg.count(">×<title>") == 1
    assert "<title>2: skipped: chain error</title>" in svg


def test_y_max_fixes_the_scale() -> None:
    svg = line_chart_svg(title="t", series=[Series("a", ((1, 0.5),))], x_label="x", y_label="y", y_max=1.0)
    assert ">1</text>" in svg
    assert 'cy="129.0"' in svg  # halfway up a 198 px plot; a single x sits in the middle (297)
    assert 'cx="297.0"' in svg


def test_an_empty_line_chart_says_so() -> None:
    for series in ([], [Series("a", ())]):
        svg = line_chart_svg(title="Nothing", series=series, x_label="x", y_label="y")
        assert "no data yet" in svg
        assert "<polyline" not in svg


def test_line_labels_are_escaped() -> None:
    svg = line_chart_svg(
        title="<b>t</b>", series=[Series("<script>", ((1, 1),))], x_label="<i>", y_label="<u>", marks={1: "<x>"}
    )
    for raw in ("<script>", "<b>", "<i>", "<u>", "<x>"):
        assert raw not in svg


def test_large_numbers_are_written_in_full() -> None:
    svg = line_chart_svg(
        title="t", series=[Series("a", ((4_200_001, 1080.0), (4_200_002, 12.5)))], x_label="x", y_label="y"
    )
    assert ">4200001</text>" in svg  # an x tick, not 4.2e+06
    assert ">1,080</text>" in svg  # the top of the y axis, not 1.08e+03
    assert "<title>a @ 4200002: 12.5</title>" in svg


def test_a_day_window_has_24_hourly_buckets_ending_with_the_current_hour():
    now = datetime(2026, 12, 2, 14, 37, 5, tzinfo=UTC)
    starts = bucket_starts(window_parse("24h"), now)
    assert len(starts) == 24
    assert starts[-1] == datetime(2026, 12, 2, 14, tzinfo=UTC)
    assert starts[0] == datetime(2026, 12, 1, 15, tzinfo=UTC)


def test_a_week_window_has_daily_buckets_and_an_unknown_window_is_the_day():
    now = datetime(2026, 12, 2, 14, 37, tzinfo=UTC)
    starts = bucket_starts(window_parse("7d"), now)
    assert starts == [datetime(2026, 11, 26 + i, tzinfo=UTC) for i in range(5)] + [
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2026, 12, 2, tzinfo=UTC),
    ]
    assert window_parse("forever") is window_parse("24h")


def test_quiet_buckets_count_zero_and_counted_ones_are_kept():
    starts = [datetime(2026, 12, 2, h, tzinfo=UTC) for h in (12, 13, 14)]
    filled = zero_filled({starts[1]: 4.0}, starts)
    assert filled == {starts[0]: 0.0, starts[1]: 4.0, starts[2]: 0.0}


def test_time_ticks_write_hours_or_dates():
    at = datetime(2026, 12, 2, 14, tzinfo=UTC).timestamp()
    assert time_ticks(3600)(at) == "14:00"
    assert time_ticks(86400)(at) == "12-02"
