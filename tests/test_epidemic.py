"""Epidemic point and zone: the Ulanqab rule (whole places join), in metres."""

from __future__ import annotations

import flask_babel
import geopandas as gpd
import pytest
from shapely.geometry import Point, box, shape

from coordination.geo.epidemic import (
    EpidemicRule,
    compute_epidemic_area,
    load_rules,
    rule_for,
)

CRS = "EPSG:32649"  # UTM 49N, around Ulanqab
ORIGIN = (600_000.0, 4_540_000.0)  # about 113.2 E, 41.0 N


def _wgs(geom):
    return gpd.GeoSeries([geom], crs=CRS).to_crs("EPSG:4326").iloc[0]


def _lonlat(dx: float, dy: float) -> tuple[float, float]:
    p = _wgs(Point(ORIGIN[0] + dx, ORIGIN[1] + dy))
    return (p.x, p.y)


def _places(rows):
    return gpd.GeoDataFrame(
        {"id": [r[0] for r in rows], "kind": [r[1] for r in rows],
         "population": [r[2] for r in rows]},
        geometry=[_wgs(r[3]) for r in rows], crs="EPSG:4326")


RULE = EpidemicRule(disease="plague", point_radius_m=3000, zone_radius_m=5000,
                    joining_kinds=frozenset({"village", "school", "office", "mine", "town"}),
                    place_radius_m={"village": 400})


def _school(dist_m: float):
    """A 600 m x 400 m school compound whose nearest edge is dist_m east of the origin."""
    x0 = ORIGIN[0] + dist_m
    return box(x0, ORIGIN[1] - 200, x0 + 600, ORIGIN[1] + 200)


def test_case_2km_from_school_takes_in_the_whole_school():
    school = _school(2000)
    places = _places([(1, "school", 800, school)])
    area = compute_epidemic_area([_lonlat(0, 0)], places, RULE)
    assert area.point_place_ids == [1]
    point = gpd.GeoSeries([shape(area.point)], crs="EPSG:4326").to_crs(CRS).iloc[0]
    # The far edge of the school is 2.6 km away, inside the union though the
    # 3 km buffer alone would reach it only in part; the whole compound is in.
    assert point.buffer(0.5).contains(school)
    assert not point.contains(Point(ORIGIN[0] + 3100, ORIGIN[1] + 1500))
    assert area.point_population == 800


def test_case_10km_from_school_leaves_it_out():
    places = _places([(1, "school", 800, _school(10_000))])
    area = compute_epidemic_area([_lonlat(0, 0)], places, RULE)
    assert area.point_place_ids == []
    assert area.point_population == 0
    # The zone (point + 5 km) reaches 8 km: the school is still not in it.
    assert area.zone_place_ids == []


def test_part_of_a_far_place_in_reach_joins_whole_and_grows_the_point():
    # A mine whose near corner is 2.9 km away and stretches 4 km further east.
    mine = box(ORIGIN[0] + 2900, ORIGIN[1] - 100, ORIGIN[0] + 6900, ORIGIN[1] + 100)
    places = _places([(7, "mine", 120, mine)])
    area = compute_epidemic_area([_lonlat(0, 0)], places, RULE)
    point = gpd.GeoSeries([shape(area.point)], crs="EPSG:4326").to_crs(CRS).iloc[0]
    assert area.point_place_ids == [7]
    assert point.buffer(0.5).contains(mine)
    assert area.point_area_km2 > 3.14159 * 9 * 0.99


def test_point_places_use_their_kind_radius_and_kinds_not_joining_stay_out():
    places = _places([
        (1, "village", 300, Point(ORIGIN[0] + 3300, ORIGIN[1])),   # 400 m circle reaches 2.9 km
        (2, "village", 200, Point(ORIGIN[0] + 3500, ORIGIN[1])),   # circle starts at 3.1 km
        (3, "other", 50, Point(ORIGIN[0] + 1000, ORIGIN[1])),      # "other" does not join here
    ])
    area = compute_epidemic_area([_lonlat(0, 0)], places, RULE)
    assert area.point_place_ids == [1]
    assert area.zone_place_ids == [1, 2, 3]
    assert area.zone_population == 550


def test_zone_population_and_facilities_inside():
    places = _places([(1, "village", 1000, Point(ORIGIN[0] + 6000, ORIGIN[1]))])
    facilities = gpd.GeoDataFrame(
        {"id": [10, 11, 12]},
        geometry=[_wgs(Point(ORIGIN[0] + 500, ORIGIN[1])),
                  _wgs(Point(ORIGIN[0] + 6000, ORIGIN[1])),
                  _wgs(Point(ORIGIN[0] + 20_000, ORIGIN[1]))], crs="EPSG:4326")
    area = compute_epidemic_area([_lonlat(0, 0)], places, RULE, facilities)
    assert area.point_facility_ids == [10]
    assert area.zone_facility_ids == [10, 11]
    assert area.zone_place_ids == [1] and area.zone_population == 1000


def test_several_cases_make_one_united_point():
    places = _places([])
    area = compute_epidemic_area([_lonlat(0, 0), _lonlat(4000, 0)], places, RULE)
    point = shape(area.point)
    assert point.geom_type == "Polygon"  # 4 km apart with 3 km radii: they overlap


def test_rules_file_is_valid_and_plague_has_a_rule():
    rules = load_rules()
    assert rules["plague"].point_radius_m > 0
    assert rule_for("Plague") == rules["plague"]
    assert rule_for("influenza") is None


def test_bad_rules_file_is_named(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text("diseases:\n  plague:\n    point_radius_m: -1\n    zone_radius_m: 1\n"
                 "    joining_kinds: [village]\n")
    with pytest.raises(ValueError, match="point_radius_m"):
        load_rules(p)


def test_no_cases_is_refused():
    with pytest.raises(ValueError):
        compute_epidemic_area([], _places([]), RULE)


# --- the zone service: versions, pages, GeoJSON -----------------------------------------


def _load_places(rows):
    """rows: (code, kind, population, shapely geometry in UTM 49N)."""
    from shapely.geometry import mapping

    from coordination.events import Actor
    from coordination.geo.places import PlaceIn, upsert_places
    from coordination.geo.region import BBox

    items = []
    for code, kind, pop, geom in rows:
        g = _wgs(geom)
        c = g.representative_point()
        items.append(PlaceIn(code=code, name=f"{code} <script>x</script>", kind=kind,
                             population=pop, lon=c.x, lat=c.y,
                             geometry=None if g.geom_type == "Point" else mapping(g)))
    upsert_places(places=items, actor=Actor.system("t"), region=BBox.parse("97,37.2,126.3,53.6"))


def _case(dx, dy, *, disease="plague", confirmed=True):
    from coordination.events import Actor
    from coordination.incidents import service as incidents
    from coordination.incidents.schemas import CaseIn, IncidentIn

    lon, lat = _lonlat(dx, dy)
    made = incidents.create_incident(data=IncidentIn(
        type="confirmed_case", disease=disease, lon=lon, lat=lat), actor=Actor.system("t"))
    incidents.add_case(incident_id=made["id"], data=CaseIn(lon=lon, lat=lat,
                                                           confirmed=confirmed),
                       actor=Actor.system("t"))
    return made["id"]


def test_zone_follows_cases_with_versions(app):
    from coordination.events import Actor
    from coordination.incidents import zones

    actor = Actor.system("t")
    _load_places([("SCH-1", "school", 800, _school(2000)),
                  ("VIL-9", "village", 300, Point(ORIGIN[0] + 30_000, ORIGIN[1]))])
    facility_lonlat = _lonlat(500, 0)
    from .map_factories import facility

    clinic = facility(name="察右后旗发热门诊", lon=facility_lonlat[0], lat=facility_lonlat[1])
    _case(0, 0)
    zones.refresh_zones(disease="plague", actor=actor)
    listed = zones.list_zones()
    assert [(z["version"], z["cases"]) for z in listed] == [(1, 1)]
    zid = listed[0]["id"]
    assert zones.refresh_zones(disease="plague", actor=actor) == []  # nothing new
    z = zones.get_zone(zone_id=zid)
    assert [p["code"] for p in z["places"]] == ["SCH-1"] and z["places"][0]["in"] == "point"
    assert z["point_population"] == 800
    assert [f["id"] for f in z["facilities"]] == [clinic.id]

    _case(28_000, 0)  # 28 km away, beyond 3 km + 10 km of the first case: a new zone
    zones.refresh_zones(disease="plague", actor=actor)
    assert len(zones.list_zones()) == 2
    _case(4000, 0)  # 4 km from the first case: joins the first zone
    zones.refresh_zones(disease="plague", actor=actor)
    ours = zones.get_zone(zone_id=zid)
    assert (ours["version"], ours["cases"]) == (2, 2)
    first = zones.get_zone(zone_id=zid, version=1)
    assert first["cases"] == 1 and first["latest_version"] == 2
    assert [h["version"] for h in zones.get_zone(zone_id=zid)["history"]] == [2, 1]


def test_unconfirmed_cases_and_diseases_without_a_rule(app):
    from coordination.errors import ValidationFailed
    from coordination.events import Actor
    from coordination.incidents import zones

    _case(0, 0, confirmed=False)
    assert zones.refresh_zones(disease="plague", actor=Actor.system("t")) == []
    with flask_babel.force_locale("en"), pytest.raises(ValidationFailed, match="no epidemic"):
        zones.refresh_zones(disease="influenza", actor=Actor.system("t"))


def test_zone_pages_api_and_geojson(app, make_user, auth):
    _load_places([("SCH-1", "school", 800, _school(2000))])
    _case(0, 0)
    make_user("operator", username="op")
    auth.login("op")
    resp = auth.post_json("/api/zones/refresh", {"disease": "plague"})
    assert resp.status_code == 200
    zid = auth.client.get("/api/zones").get_json()["zones"][0]["id"]
    geo = auth.client.get(f"/api/zones/{zid}.geojson")
    assert geo.status_code == 200 and geo.mimetype == "application/geo+json"
    layers = [f["properties"]["layer"] for f in geo.get_json()["features"]]
    assert layers == ["epidemic_point", "epidemic_zone", "case", "place"]
    assert shape(geo.get_json()["features"][0]["geometry"]).contains(
        shape(geo.get_json()["features"][3]["geometry"]).buffer(-1e-6))
    page = auth.client.get(f"/zones/{zid}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "SCH-1 &lt;script&gt;" in html and "<script>x</script>" not in html
    assert "/static/vendor/leaflet" in html and "cdn" not in html.lower()
    listing = auth.client.get("/zones")
    assert listing.status_code == 200 and f"/zones/{zid}" in listing.get_data(as_text=True)
    recompute = auth.post_json(f"/api/zones/{zid}/recompute", {})
    assert recompute.status_code == 201 and recompute.get_json()["version"] == 2
    assert auth.client.get(f"/api/zones/{zid}?version=1").get_json()["version"] == 1
    assert auth.client.get(f"/api/zones/{zid}?version=9").status_code == 404
    with flask_babel.force_locale("en"):
        bad = auth.post_json("/api/zones/refresh", {})
    assert bad.status_code == 400


def test_zone_page_form_refresh(app, make_user, auth):
    from .support import csrf_from

    _case(0, 0)
    make_user("operator", username="op")
    auth.login("op")
    page = auth.client.get("/zones")
    resp = auth.client.post("/zones/refresh", data={"disease": "plague",
                                                    "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 302
    assert "/zones/" in auth.client.get("/zones").get_data(as_text=True)
