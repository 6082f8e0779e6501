"""The server-side SVG charts: valid XML, the expected marks, escaped text, phone-wide."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from app.reports import charts

NS = {"svg": "http://www.w3.org/2000/svg"}
WORDS = charts.CumulativeWords(
    title="Hoàn thành <theo> thời gian & chỉ tiêu", desc="Mô tả", actual="Đã hoàn thành",
    target="Chỉ tiêu", plan="Kế hoạch", point="Đến %(month)s: %(count)s người",
    y_axis="Số người")


def parse(markup) -> ET.Element:
    root = ET.fromstring(str(markup))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("width") == "100%" and root.get("viewBox").startswith("0 0 ")
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"svg:title[@id='{title_id}']", NS) is not None
    assert root.find(f"svg:desc[@id='{desc_id}']", NS) is not None
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]


@pytest.mark.parametrize("value,expected", [(0, 4), (1, 4), (5, 8), (9, 12), (10, 12),
                                            (171, 200), (1000, 1000), (1_000_001, 1_200_000)])
def test_axis_max_gives_whole_steps(value, expected):
    top = charts.axis_max(value)
    assert top == expected and top >= value and top % 4 == 0


def test_cumulative_chart_points_lines_and_escaping():
    points = [(date(2026, 1, 31), 3), (date(2026, 2, 28), 10), (date(2026, 3, 15), 12)]
    root = parse(charts.cumulative_chart("c1", points, 40, date(2026, 1, 1),
                                         date(2026, 12, 31), WORDS))
    circles = root.findall(".//svg:circle[@class='point']", NS)
    assert len(circles) == 3
    assert [c.find("svg:title", NS).text for c in circles][-1] == "Đến 15/03/2026: 12 người"
    assert root.find("svg:title", NS).text == "Hoàn thành <theo> thời gian & chỉ tiêu"
    target = root.find(".//svg:line[@class='target']", NS)
    plan = root.find(".//svg:line[@class='plan']", NS)
    assert target.get("y1") == target.get("y2") == plan.get("y2")  # the plan ends at the target
    ys = [float(c.get("cy")) for c in circles]
    assert ys == sorted(ys, reverse=True)  # more people, higher on the chart
    labels = texts(root)
    assert "01/26" in labels and "Số người" in labels and "Chỉ tiêu" in labels


def test_cumulative_chart_without_points_is_still_valid():
    root = parse(charts.cumulative_chart("c2", [], 0, date(2026, 1, 1), date(2026, 1, 1), WORDS))
    assert root.findall(".//svg:circle", NS) == []


def test_heatmap_has_one_cell_per_unit_and_group():
    columns = [(str(g), f"Nhóm {g}") for g in range(7)]
    rows = [charts.HeatRow("Xã <Tân & Phú>", 10, [0, 2, 4, 6, 8, 10, 1]),
            charts.HeatRow("Phường \"Long\"", 0, [0] * 7),
            charts.HeatRow("Tổ CNSCĐ khu phố rất rất dài tên", 4, [1, 1])]
    markup = charts.heatmap("h1", rows, columns, "Bản đồ <năng lực>", "Mô tả",
                            "%(unit)s, nhóm %(group)s: %(percent)s%% (%(count)s/%(members)s)",
                            "chưa có thành viên")
    assert "<Tân" not in str(markup)  # escaped in the markup itself
    root = parse(markup)
    cells = root.findall(".//svg:g[@class='cell']", NS)
    assert len(cells) == 3 * 7
    first = [c.find("svg:text", NS).text for c in cells[:7]]
    assert first == ["0", "20", "40", "60", "80", "100", "10"]
    fills = [c.find("svg:rect", NS).get("fill") for c in cells[:6]]
    assert fills == [charts.HEAT_STEPS[k] for k in (0, 1, 2, 3, 4, 4)]
    assert cells[0].find("svg:rect/svg:title", NS).text == "Xã <Tân & Phú>, nhóm Nhóm 0: 0% (0/10)"
    assert {c.find("svg:text", NS).text for c in cells[7:14]} == {"–"}  # no members: no %
    assert [c.find("svg:text", NS).text for c in cells[14:]][2:] == ["0"] * 5  # missing → 0
    row_labels = texts(root)
    assert "Xã <Tân & Phú>" in row_labels and "Phường \"Long\"" in row_labels
    assert any(label.endswith("…") for label in row_labels)  # long names cut, full in <title>


def test_heat_steps():
    assert [charts.heat_step(p) for p in (0, 19.9, 20, 59, 60, 79.9, 80, 100)] == [
        0, 0, 1, 2, 3, 3, 4, 4]


def test_histogram_has_eleven_bars_scaled_to_counts():
    counts = [0, 0, 0, 0, 0, 0, 5, 10, 20, 0, 40]
    root = parse(charts.histogram("s1", counts, charts.score_labels(), "Điểm <&>", "Mô tả",
                                  "Điểm (%)", "Số lượt", "Điểm %(label)s: %(count)s lượt"))
    bars = root.findall(".//svg:rect[@class='bar']", NS)
    assert len(bars) == 11
    heights = [float(b.get("height")) for b in bars]
    assert heights[0] == 0 and heights[10] == pytest.approx(4 * heights[7], rel=0.01)
    assert bars[10].find("svg:title", NS).text == "Điểm 100: 40 lượt"
    assert charts.score_labels()[0] == "0–9" and charts.score_labels()[-1] == "100"
    assert root.find("svg:title", NS).text == "Điểm <&>"


@pytest.mark.parametrize("name", ["cumulative", "heatmap", "histogram"])
def test_charts_are_about_one_phone_wide(name):
    """The drawing is 320 units wide, so at 100% of a 360 px screen its text stays ~12 px."""
    markup = {
        "cumulative": lambda: charts.cumulative_chart("a", [], 1, date(2026, 1, 1),
                                                      date(2026, 6, 30), WORDS),
        "heatmap": lambda: charts.heatmap("b", [charts.HeatRow("A", 1, [1])], [("0", "x")],
                                          "t", "d", "%(unit)s", "-"),
        "histogram": lambda: charts.histogram("c", [1] * 11, charts.score_labels(), "t", "d",
                                              "x", "y", "%(label)s"),
    }[name]()
    root = parse(markup)
    assert root.get("viewBox").split()[2] == str(charts.WIDTH) == "320"
