"""The load contract: which columns each kind of feature has, their types and references.

These are the column names ``wangge generate`` writes; real files are mapped onto them with
``--field name=source_column`` (or the aliases below for the real files we ship).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from gis.models import DEVICE_KINDS, WORKER_ROLES

ColumnType = Literal["code", "text", "int", "float", "bool", "datetime"]
GeometryRule = Literal["polygon", "optional_polygon", "point", "line"]

DISTRICT_CODE = r"[0-9]{6}"
STREET_CODE = r"[0-9]{9}000"
COMMUNITY_CODE = r"[0-9]{12}"
GRID_CODE = r"[0-9]{15}"
IDENTIFIER = r"[A-Za-z0-9_-]{1,64}"
"""Worker and device ids: they double as MQTT identities."""

WORKER_ROLE_SPELLINGS: dict[str, str] = {
    **{role: role for role in WORKER_ROLES},
    "专职": "full_time",
    "专职网格员": "full_time",
    "兼职": "part_time",
    "兼职网格员": "part_time",
    "部门": "department",
    "部门人员": "department",
    "网格长": "grid_head",
    "干部": "cadre",
    "村(社区)干部": "cadre",
    "值班": "duty_desk",
    "值班台": "duty_desk",
    "社区值班台": "duty_desk",
}
DEVICE_KIND_SPELLINGS: dict[str, str] = {
    **{kind: kind for kind in DEVICE_KINDS},
    "摄像头": "camera",
    "水表": "water_meter",
    "电表": "electricity_meter",
    "门禁": "door",
}
ROAD_CLASS_SPELLINGS: dict[str, str] = {
    "高速公路": "motorway",
    "快速路": "trunk",
    "城市快速路": "trunk",
    "国道": "trunk",
    "主干路": "primary",
    "主干道": "primary",
    "省道": "primary",
    "次干路": "secondary",
    "次干道": "secondary",
    "县道": "secondary",
    "支路": "tertiary",
    "乡道": "tertiary",
    "街巷": "residential",
    "小区道路": "service",
    "内部道路": "service",
    "人行道": "footway",
    "步行道": "footway",
    "铁路": "rail",
}
"""Chinese road classes (GB 50220 urban classes, the highway network) → the OSM ``highway``
/ ``railway`` value stored, so one class rule (gis.redistrict.inputs.CUT_ROAD_CLASSES)
serves every source. Other values are stored as written."""
COMMUNITY_KIND_SPELLINGS = {"社区": "社区", "村": "村", "community": "社区", "village": "村"}


@dataclass(frozen=True)
class Column:
    """One attribute. ``code`` columns are text whose absence or bad format is a code error."""

    name: str
    type: ColumnType = "text"
    required: bool = False
    default: object = None
    pattern: str | None = None
    max_length: int | None = None
    minimum: float | None = None
    choices: dict[str, str] | None = None
    """Accepted spellings → stored value (e.g. 专职 → full_time)."""


@dataclass(frozen=True)
class Parent:
    """``column`` holds the key of a ``kind`` row that must exist (in this load or the DB)."""

    column: str
    kind: str


@dataclass(frozen=True)
class Kind:
    name: str
    label_zh: str
    table: str
    key: str | None
    """The identity column: unique within a file, upserted on reload (None: no identity)."""
    columns: tuple[Column, ...]
    geometry: GeometryRule | None = None
    parents: tuple[Parent, ...] = ()
    prefix_rules: tuple[tuple[str, str, int], ...] = ()
    """(column, parent column, n): the first n characters of both must agree."""
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Canonical column → source column names tried when the canonical one is absent."""
    pieces_share_key: bool = False
    """Features with the same key are pieces of one (a road cut at tile edges): merged, not
    duplicates."""
    cli_aliases: tuple[str, ...] = ()
    """Other names of the kind on the command line (``wangge load roads``)."""


def _code(name: str, pattern: str, required: bool = True) -> Column:
    return Column(name, "code", required=required, pattern=pattern)


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "district",
            "区县",
            "district",
            "code",
            (
                _code("code", DISTRICT_CODE),
                Column("name", required=True),
                Column("city_name"),
            ),
            geometry="polygon",
            aliases={
                "code": ("district_adcode", "adcode"),
                "name": ("district_name", "district"),
                "city_name": ("city",),
            },
        ),
        Kind(
            "street",
            "街道/乡镇",
            "street",
            "code",
            (
                _code("code", STREET_CODE),
                _code("district_code", DISTRICT_CODE),
                Column("name", required=True),
            ),
            geometry="optional_polygon",
            parents=(Parent("district_code", "district"),),
            prefix_rules=(("code", "district_code", 6),),
            aliases={"code": ("town_code_12",), "district_code": ("district_adcode",)},
        ),
        Kind(
            "community",
            "社区/村",
            "community",
            "code",
            (
                _code("code", COMMUNITY_CODE),
                _code("street_code", STREET_CODE),
                Column("name", required=True),
                Column("kind", default="社区", choices=COMMUNITY_KIND_SPELLINGS),
            ),
            geometry="polygon",
            parents=(Parent("street_code", "street"),),
            prefix_rules=(("code", "street_code", 9),),
        ),
        Kind(
            "grid",
            "网格",
            "grid",
            "code",
            (
                _code("code", GRID_CODE),
                _code("community_code", COMMUNITY_CODE),
                Column("name", required=True),
                Column("household_target", "int", default=450, minimum=1),
                Column("valid_from", "datetime"),
            ),
            geometry="polygon",
            parents=(Parent("community_code", "community"),),
            prefix_rules=(("code", "community_code", 12),),
        ),
        Kind(
            "building",
            "楼栋",
            "building",
            "code",
            (
                Column("code", "code", required=True, max_length=32),
                _code("community_code", COMMUNITY_CODE, required=False),
                Column("name"),
                Column("floors", "int", minimum=1),
                Column("units", "int", minimum=1),
                Column("households", "int", default=0, minimum=0),
                Column("height_m", "float", minimum=0),
            ),
            geometry="polygon",
            parents=(Parent("community_code", "community"),),
        ),
        Kind(
            "road",
            "道路",
            "road",
            "id",
            (
                # "id", not "code": Geofabrik's shapefiles have a "code" column (the class).
                Column("id", "code", max_length=64),
                Column("class", default="road"),
                Column("name"),
                Column("tunnel"),
            ),
            geometry="line",
            aliases={
                "id": ("@id", "osm_id", "道路编码"),
                "class": ("highway", "kind_detail", "railway", "fclass", "道路等级", "等级"),
                "name": ("name:zh", "名称", "道路名称"),
                "tunnel": ("is_tunnel",),
            },
            pieces_share_key=True,
            cli_aliases=("roads",),
        ),
        Kind(
            "household",
            "住户",
            "household",
            "code",
            (
                Column("code", "code", required=True, max_length=40),
                Column("building_code", "code", required=True, max_length=32),
                Column("unit", "int", default=1, minimum=1),
                Column("room", required=True, max_length=16),
                Column("members", "int", default=1, minimum=0),
                Column("tags"),
                Column("consent", "bool", default=False),
                Column("family_contact_name"),
                Column("family_contact_phone"),
            ),
            parents=(Parent("building_code", "building"),),
        ),
        Kind(
            "resident",
            "居民",
            "resident",
            None,
            (
                Column("household_code", "code", required=True, max_length=40),
                Column("name", required=True),
                Column("birth_year", "int", minimum=1880),
                Column("id_number"),
                Column("phone"),
            ),
            parents=(Parent("household_code", "household"),),
        ),
        Kind(
            "worker",
            "网格员",
            "worker",
            "id",
            (
                _code("id", IDENTIFIER),
                Column("name", required=True),
                Column("role", required=True, choices=WORKER_ROLE_SPELLINGS),
                Column("department"),
                Column("phone"),
                _code("community_code", COMMUNITY_CODE, required=False),
                _code("street_code", STREET_CODE, required=False),
            ),
            parents=(Parent("community_code", "community"), Parent("street_code", "street")),
        ),
        Kind(
            "assignment",
            "网格分配",
            "grid_assignment",
            None,
            (
                _code("worker_id", IDENTIFIER),
                _code("grid_code", GRID_CODE),
                Column("role", required=True, choices=WORKER_ROLE_SPELLINGS),
                Column("valid_from", "datetime"),
                Column("valid_to", "datetime"),
            ),
            parents=(Parent("worker_id", "worker"), Parent("grid_code", "grid")),
        ),
        Kind(
            "device",
            "设备",
            "device",
            "id",
            (
                _code("id", IDENTIFIER),
                Column("kind", required=True, choices=DEVICE_KIND_SPELLINGS),
                Column("model"),
                Column("height_m", "float", minimum=0),
                Column("range_m", "float", minimum=0),
                Column("building_code", "code", max_length=32),
                Column("household_code", "code", max_length=40),
            ),
            geometry="point",
            parents=(Parent("building_code", "building"), Parent("household_code", "household")),
        ),
    )
}
"""Every loadable kind, in dependency order (parents before children)."""
