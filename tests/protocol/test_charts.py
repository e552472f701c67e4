from protocol.charts import Bar, bar_chart_svg


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
