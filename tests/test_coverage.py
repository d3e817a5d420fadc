"""Service-radius coverage: hand-built places with known answers, the page and the export.

Positions are made with pyproj's geodesic forward problem, so "29 km north"
is 29 km on the ellipsoid, not a guess in degrees.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from flask_babel import force_locale
from pyproj import Geod
from shapely.geometry import Point, box

from coordination.config import ConfigError, load_settings
from coordination.coverage.compute import WGS84, assign_areas, compute_coverage, utm_zone
from coordination.coverage.radii import with_overrides
from coordination.errors import ValidationFailed
from coordination.geo.places import PlaceIn, upsert_places

from . import map_factories as mf

GEOD = Geod(ellps="WGS84")
CENTRE = (112.0, 41.0)  # UTM zone 49
THC, EMS = "township_health_centre", "ems_station"


def at(origin: tuple[float, float], bearing: float, km: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(origin[0], origin[1], bearing, km * 1000.0)
    return lon, lat


def centres(*rows: tuple[int, str, tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": [r[0] for r in rows], "code": [f"C{r[0]}" for r in rows],
         "name": [f"centre {r[0]}" for r in rows], "kind": [r[1] for r in rows]},
        geometry=[Point(r[2]) for r in rows], crs=WGS84)


def places(*rows: tuple[str, int, str | None, object]) -> gpd.GeoDataFrame:
    """(code, population, area code, position or shapely geometry)."""
    return gpd.GeoDataFrame(
        {"id": list(range(1, len(rows) + 1)), "code": [r[0] for r in rows],
         "name": [r[0] for r in rows], "kind": ["village"] * len(rows),
         "population": [r[1] for r in rows], "area": [r[2] for r in rows]},
        geometry=[r[3] if not isinstance(r[3], tuple) else Point(r[3]) for r in rows],
        crs=WGS84)


def areas(*rows: tuple[str, str | None, str, object]) -> gpd.GeoDataFrame:
    """(code, parent, level, seat position or polygon)."""
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "parent_code": [r[1] for r in rows],
         "level": [r[2] for r in rows], "name_zh": [f"区{r[0]}" for r in rows],
         "name_en": [f"Area {r[0]}" for r in rows]},
        geometry=[r[3] if not isinstance(r[3], tuple) else Point(r[3]) for r in rows],
        crs=WGS84)


CITY = ("100", None, "city", (112.5, 41.5))


def test_29_km_is_covered_and_31_km_is_not():
    ps = places(("in", 500, "101", at(CENTRE, 0, 29)), ("out", 700, "101", at(CENTRE, 90, 31)),
                ("edge-in", 10, "101", at(CENTRE, 225, 29.98)),
                ("edge-out", 10, "101", at(CENTRE, 225, 30.02)))
    result = compute_coverage(places=ps, centres=centres((1, THC, CENTRE)),
                              areas=areas(CITY, ("101", "100", "county", CENTRE)),
                              radii_km={THC: 30})
    got = dict(zip(result.places["code"], result.places["covered"], strict=True))
    assert got == {"in": True, "out": False, "edge-in": True, "edge-out": False}
    km = dict(zip(result.places["code"], result.places["nearest_km"], strict=True))
    # Ground distance (the zone's scale taken out): within 5 m of the geodesic.
    assert km["in"] == pytest.approx(29, abs=0.005) and km["out"] == pytest.approx(31, abs=0.005)
    assert list(result.uncovered_places["code"]) == ["out", "edge-out"]
    assert result.crs == ["EPSG:32649"]


def test_each_kind_has_its_own_radius_and_only_listed_kinds_count():
    ps = places(("near-ems", 100, "101", at(CENTRE, 0, 12)),
                ("near-clinic", 100, "101", at((113.0, 41.0), 0, 5)))
    cs = centres((1, EMS, CENTRE), (2, "fever_clinic", (113.0, 41.0)))
    area = areas(CITY, ("101", "100", "county", CENTRE))
    tight = compute_coverage(places=ps, centres=cs, areas=area, radii_km={THC: 30, EMS: 10})
    assert list(tight.places["covered"]) == [False, False]  # fever clinics are no service centre
    assert list(tight.centres["id"]) == [1]
    wide = compute_coverage(places=ps, centres=cs, areas=area, radii_km={THC: 30, EMS: 15})
    assert list(wide.places["covered"]) == [True, False]
    assert wide.places["nearest_centre"].tolist() == [1, 1]


def test_places_across_a_utm_zone_boundary_are_measured_in_their_own_zone():
    # Huade lies east of 114°E (zone 50), Shangdu west of it (zone 49).
    centre = (113.95, 41.9)
    east_in, east_out = at(centre, 90, 25), at(centre, 90, 35)
    assert utm_zone([centre[0], east_in[0]]).tolist() == [49, 50]
    ps = places(("east-in", 10, "101", east_in), ("east-out", 10, "101", east_out),
                ("west", 10, "101", at(centre, 270, 20)))
    result = compute_coverage(places=ps, centres=centres((1, THC, centre)),
                              areas=areas(CITY, ("101", "100", "county", centre)),
                              radii_km={THC: 30})
    assert list(result.places["covered"]) == [True, False, True]
    assert sorted(result.crs) == ["EPSG:32649", "EPSG:32650"]
    assert result.places["nearest_km"].tolist() == pytest.approx([25, 35, 20], abs=0.005)


def test_shares_per_area_are_exact_and_places_are_assigned_in_order():
    a, c = (112.0, 41.0), (112.0, 42.5)
    poly_b = box(113.2, 40.7, 113.8, 41.3)
    area = areas(CITY, ("101", "100", "county", a), ("102", "100", "banner", poly_b),
                 ("103", "100", "district", c), ("10101", "101", "town", a))
    ps = places(
        ("a-covered", 1000, "101", at(a, 0, 10)),
        ("a-town-covered", 500, "10101", at(a, 180, 5)),      # a town's code: its county counts
        ("a-out", 4500, "101", at(a, 90, 60)),
        ("b-by-polygon", 300, None, (113.5, 41.1)),           # no code: the polygon decides
        ("b-code-wins", 200, "102", at(a, 0, 20)),            # recorded code beats geometry
        ("c-by-seat", 250, None, at(c, 45, 40)),              # no code, no polygon: nearest seat
        ("nobody", 0, "103", at(c, 0, 1)),
    )
    result = compute_coverage(places=ps, centres=centres((1, THC, a)), areas=area,
                              radii_km={THC: 30})
    assigned = dict(zip(result.places["code"], result.places["area"], strict=True))
    assert assigned == {"a-covered": "101", "a-town-covered": "101", "a-out": "101",
                        "b-by-polygon": "102", "b-code-wins": "102", "c-by-seat": "103",
                        "nobody": "103"}
    rows = {s.code: s for s in result.areas}
    assert list(rows) == ["101", "102", "103"]  # county level only: no city, no town
    assert (rows["101"].population, rows["101"].covered) == (6000, 1500)
    assert rows["101"].share == 0.25
    assert (rows["102"].population, rows["102"].covered, rows["102"].share) == (500, 200, 0.4)
    assert (rows["103"].population, rows["103"].covered, rows["103"].share) == (250, 0, 0.0)
    assert rows["103"].places == 2 and rows["103"].uncovered_places == 2
    assert (result.population, result.covered) == (6750, 1700)
    assert result.share == pytest.approx(1700 / 6750)


def test_an_area_with_nobody_has_no_share_and_a_polygon_place_counts_by_its_inside():
    a = (112.0, 41.0)
    mine_centre = at(a, 0, 20)
    mine = box(mine_centre[0] - 0.01, mine_centre[1] - 0.01, mine_centre[0] + 0.01,
               mine_centre[1] + 0.01)
    area = areas(CITY, ("101", "100", "county", a), ("102", "100", "county", (114.0, 42.0)))
    result = compute_coverage(places=places(("mine", 80, "101", mine)),
                              centres=centres((1, THC, a)), areas=area, radii_km={THC: 30})
    assert bool(result.places["covered"].iloc[0]) is True
    assert result.places.geometry.iloc[0].geom_type == "Point"  # where it was measured
    rows = {s.code: s for s in result.areas}
    assert rows["102"].population == 0 and rows["102"].share is None


def test_no_centres_or_no_places_give_zero_coverage_not_an_error():
    area = areas(CITY, ("101", "100", "county", CENTRE))
    result = compute_coverage(places=places(("p", 10, "101", CENTRE)), centres=centres(),
                              areas=area, radii_km={THC: 30})
    assert result.covered == 0 and result.share == 0.0
    empty = compute_coverage(places=places(), centres=centres((1, THC, CENTRE)), areas=area,
                             radii_km={THC: 30})
    assert empty.population == 0 and empty.share is None


def test_assign_areas_without_any_area_leaves_places_unassigned():
    out = assign_areas(places(("p", 10, None, CENTRE)), areas())
    assert out.tolist() == [None]


# --- radii: the setting and the what-if ------------------------------------------------


def test_radius_setting_is_validated(tmp_path):
    base = {"instance_path": tmp_path, "secret_key": "k"}
    assert load_settings(base).coverage_radius_km == {THC: 30.0, EMS: 30.0}
    assert load_settings(base | {"coverage_radius_km": {EMS: 15}}).coverage_radius_km == {
        EMS: 15.0}
    for bad in ({"clinic": 30}, {THC: 0}, {THC: 1000}, {}):
        with pytest.raises(ConfigError, match="COORDINATION_COVERAGE_RADIUS_KM"):
            load_settings(base | {"coverage_radius_km": bad})


def test_radius_setting_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COORDINATION_COVERAGE_RADIUS_KM", '{"township_health_centre": 25}')
    settings = load_settings({"instance_path": tmp_path, "secret_key": "k"})
    assert settings.coverage_radius_km == {THC: 25.0}


def test_what_if_overrides(app):
    base = {THC: 30.0, EMS: 30.0}
    assert with_overrides(base, {"radius_ems_station": "12.5", "other": "x"}) == {
        THC: 30.0, EMS: 12.5}
    assert with_overrides(base, {"radius_ems_station": "0"}) == {THC: 30.0}
    assert with_overrides(base, {"radius_fever_clinic": "5"})["fever_clinic"] == 5.0
    with force_locale("en"):
        for args, message in (({"radius_clinic": "3"}, "Unknown facility kind"),
                              ({"radius_ems_station": "far"}, "kilometres"),
                              ({"radius_ems_station": "-1"}, "kilometres"),
                              ({"radius_ems_station": "nan"}, "kilometres"),
                              ({"radius_ems_station": "301"}, "kilometres"),
                              ({"radius_ems_station": "0", "radius_township_health_centre": "0"},
                               "at least one")):
            with pytest.raises(ValidationFailed, match=message):
                with_overrides(base, args)


# --- the page and the export ------------------------------------------------------------


@pytest.fixture
def planned(app):
    """Jining with one health centre and one EMS station; places at known distances."""
    mf.area()
    thc = mf.facility(kind=THC, name="白海子镇卫生院", code="THC-1")
    ems_at = at(mf.JINING, 90, 50)
    mf.facility(kind=EMS, name="120急救站", code="EMS-1", lon=ems_at[0], lat=ems_at[1])
    mf.facility(kind="fever_clinic", name="发热门诊", code="FC-1")
    rows = [("P1", "近村", 1000, at(mf.JINING, 0, 29)), ("P2", "远村", 3000, at(mf.JINING, 0, 31)),
            ("P3", "<script>window.x=1</script>村", 200, at(mf.JINING, 180, 45)),
            ("P4", "站旁村", 800, at(ems_at, 0, 20))]
    items = [PlaceIn(code=c, name=n, kind="village", population=p, area="150902", lon=pos[0],
                     lat=pos[1]) for c, n, p, pos in rows]
    mine = at(mf.JINING, 270, 60)  # a polygon, far from both centres, nobody lives there
    d = 0.01
    items.append(PlaceIn(code="M1", name="铁矿", kind="mine", population=0, area="150902",
                         lon=mine[0], lat=mine[1], geometry={"type": "Polygon", "coordinates": [[
                             [mine[0] - d, mine[1] - d], [mine[0] + d, mine[1] - d],
                             [mine[0] + d, mine[1] + d], [mine[0] - d, mine[1] + d],
                             [mine[0] - d, mine[1] - d]]]}))
    upsert_places(places=items, actor=mf.ACTOR, region=mf.REGION)
    return thc


def _operator(make_user, auth):
    make_user("operator", username="planner")
    auth.login("planner")


def test_geojson_export(planned, make_user, auth, client):
    _operator(make_user, auth)
    resp = client.get("/api/coverage.geojson")
    assert resp.status_code == 200 and resp.mimetype == "application/geo+json"
    body = json.loads(resp.data)
    by_kind: dict[str, list] = {}
    for f in body["features"]:
        by_kind.setdefault(f["properties"]["feature"], []).append(f)
    assert {f["properties"]["code"] for f in by_kind["centre"]} == {"THC-1", "EMS-1"}
    assert all(f["properties"]["radius_m"] == 30000 for f in by_kind["centre"])
    assert {f["properties"]["code"] for f in by_kind["uncovered_place"]} == {"P2", "P3", "M1"}
    assert all(f["geometry"]["type"] == "Point" for f in by_kind["uncovered_place"])
    lon, lat = by_kind["uncovered_place"][0]["geometry"]["coordinates"]
    assert 100 < lon < 120 and 35 < lat < 50  # RFC 7946: lon, lat
    [area] = by_kind["area"]
    assert area["properties"]["code"] == "150902"
    assert area["properties"]["population"] == 5000 and area["properties"]["covered"] == 1800
    assert area["properties"]["share"] == pytest.approx(0.36)
    assert body["coverage"]["share"] == pytest.approx(0.36)
    assert body["coverage"]["radii_km"] == {THC: 30.0, EMS: 30.0}
    # What-if: a 32 km radius for health centres takes in the far village too.
    wider = client.get("/api/coverage.geojson?radius_township_health_centre=32&download=1")
    assert "attachment" in wider.headers["Content-Disposition"]
    assert json.loads(wider.data)["coverage"]["covered"] == 4800
    # Circles for GIS tools: a closed, right-hand (counter-clockwise) ring of ~30 km.
    circles = json.loads(client.get("/api/coverage.geojson?circles=1").data)
    ring = next(f for f in circles["features"] if f["properties"]["code"] == "THC-1")[
        "geometry"]["coordinates"][0]
    assert ring[0] == ring[-1]
    area2 = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False))
    assert area2 > 0
    north = max(p[1] for p in ring)
    assert GEOD.inv(mf.JINING[0], mf.JINING[1], mf.JINING[0], north)[2] == pytest.approx(
        30000, rel=0.002)


def test_geojson_rejects_bad_radii_with_400(planned, make_user, auth, client):
    _operator(make_user, auth)
    with force_locale("en"):
        resp = client.get("/api/coverage.geojson?radius_ems_station=abc")
    assert resp.status_code == 400 and "error" in resp.get_json()


def test_page_shows_the_table_the_map_data_and_escapes_names(planned, make_user, auth, client):
    _operator(make_user, auth)
    resp = client.get("/coverage")
    assert resp.status_code == 200
    html = resp.text
    assert 'id="coverage-table"' in html and "集宁区" in html
    assert "36.0%" in html  # 1,800 of 5,000
    assert "<script>window.x=1</script>" not in html  # user text never becomes markup
    data = json.loads(html.split('id="coverage-data">', 1)[1].split("</script>", 1)[0])
    assert len(data["centres"]) == 2 and len(data["uncovered"]) == 3
    assert len(data["covered"]) == 2
    assert {c[2] for c in data["centres"]} == {30000.0}
    assert 'href="/static/css/coverage.css"' in html and "/static/js/coverage.js" in html
    what_if = client.get("/coverage?radius_ems_station=0&paper=a3")
    assert what_if.status_code == 200 and "paper-a3" in what_if.text
    assert "20.0%" in what_if.text  # without the EMS station: 1,000 of 5,000
    with force_locale("en"):
        bad = client.get("/coverage?radius_township_health_centre=-5")
    assert bad.status_code == 400


def test_liaison_may_not_see_coverage(planned, make_user, auth, client):
    make_user("liaison", username="li")
    auth.login("li")
    assert client.get("/coverage").status_code == 403
    assert client.get("/api/coverage.geojson").status_code == 403


@pytest.mark.parametrize("lon", [97.5, 103.2, 109.9, 114.01, 119.6, 125.9])
def test_zone_crs_is_what_estimate_utm_crs_picks_across_inner_mongolia(lon):
    from coordination.coverage.compute import zone_crs

    points = gpd.GeoSeries([Point(lon, 42.0), Point(lon + 0.02, 42.3)], crs=WGS84)
    assert zone_crs(int(utm_zone(lon))) == points.estimate_utm_crs()
