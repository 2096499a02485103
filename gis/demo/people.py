"""Households (户) in every flat of the buildings, and the residents (居民) of each household.

Shares follow what grid workers report for old Baotou communities: 3–6% of households are
elderly people living alone (独居老人, the elderly-watch cases), 6–12% elderly couples
(空巢老人), a few percent 低保 / 残疾 / 退役军人. Everything is vectorised: 1M households
and ~2.5M residents take seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gis.demo.geography import DISTRICT_CODE
from gis.demo.idcard import fake_id_numbers
from gis.demo.names import person_names

REFERENCE_YEAR = 2026
FAKE_PHONE_PREFIX = 100 * 10**8
"""Phones are "100" + 8 digits: no Chinese mobile or landline number looks like that, so a
notification channel can never reach a real person with generated data."""

ELDERLY_ALONE_SHARE = (0.03, 0.06)
EMPTY_NEST_SHARE = (0.06, 0.12)
"""Per community, drawn uniformly within these bounds."""
MEMBERS = (1, 2, 3, 4, 5)
MEMBERS_P = (0.14, 0.30, 0.33, 0.15, 0.08)
TAGS = ("独居老人", "空巢老人", "低保", "残疾", "退役军人")
TAG_SHARE = {"低保": (0.02, 0.08), "残疾": (0.03, 0.06), "退役军人": (0.025, 0.04)}
"""(share among households, share among elderly living alone)."""
CONSENT_SHARE = {"独居老人": 0.92, "空巢老人": 0.6, "other": 0.15}
PHONE_SHARE_ADULTS = 0.9
FLOOR_HEIGHT_M = 2.9


def fake_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    return (FAKE_PHONE_PREFIX + rng.integers(0, 10**8, n)).astype(str).astype(object)


def make_households(
    buildings: pd.DataFrame, community_index: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """One row per occupied flat: the contract columns plus ``building`` (row in
    ``buildings``), ``floor``, ``elderly_alone`` and ``empty_nest`` for later stages.

    ``buildings`` needs code, floors, units, per_floor, households; ``community_index``
    gives each building's community (households of a community share its elderly rates).
    """
    flats = _occupied_flats(buildings, rng)
    n = len(flats["building"])
    community = community_index[flats["building"]]
    n_communities = int(community_index.max()) + 1
    alone_share = rng.uniform(*ELDERLY_ALONE_SHARE, n_communities)[community]
    nest_share = rng.uniform(*EMPTY_NEST_SHARE, n_communities)[community]
    draw = rng.random(n)
    alone = draw < alone_share
    nest = ~alone & (draw < alone_share + nest_share)
    members = np.where(alone, 1, np.where(nest, 2, rng.choice(MEMBERS, n, p=MEMBERS_P)))

    tag_bits = alone * 1 + nest * 2
    for bit, tag in enumerate(TAGS[2:], start=2):
        share, share_alone = TAG_SHARE[tag]
        tag_bits += (rng.random(n) < np.where(alone, share_alone, share)) << bit
    tag_text = np.array(["|".join(t for b, t in enumerate(TAGS) if m >> b & 1) for m in range(32)])

    consent_share = np.where(
        alone,
        CONSENT_SHARE["独居老人"],
        np.where(nest, CONSENT_SHARE["空巢老人"], CONSENT_SHARE["other"]),
    )
    consent = rng.random(n) < consent_share
    elderly = alone | nest
    contact_name = np.where(elderly, person_names(rng, n), "")
    contact_phone = np.where(elderly, fake_phones(rng, n), "")

    building_code = buildings["code"].to_numpy()[flats["building"]]
    return pd.DataFrame(
        {
            "code": _household_codes(building_code, flats["unit"], flats["room"]),
            "building_code": building_code,
            "unit": flats["unit"],
            "room": flats["room"].astype(str),
            "members": members,
            "tags": tag_text[tag_bits],
            "consent": np.where(consent, "true", "false"),
            "family_contact_name": contact_name,
            "family_contact_phone": contact_phone,
            "building": flats["building"],
            "floor": flats["floor"],
            "elderly_alone": alone,
            "empty_nest": nest,
        }
    )


def _occupied_flats(buildings: pd.DataFrame, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Every flat (unit, floor, position on the landing) minus each building's vacant ones,
    in building, unit, floor, position order; rooms are numbered floor + 2-digit position."""
    per_floor = buildings["per_floor"].to_numpy()
    per_unit = buildings["floors"].to_numpy() * per_floor
    flats = per_unit * buildings["units"].to_numpy()
    vacant = flats - buildings["households"].to_numpy()

    building = np.repeat(np.arange(len(buildings)), flats)
    local = np.arange(len(building)) - np.repeat(np.cumsum(flats) - flats, flats)
    within_unit = local % per_unit[building]
    floor = within_unit // per_floor[building] + 1

    # Vacant flats: in each building, the ones with the smallest random keys.
    rank_by_key = np.empty(len(building), dtype=np.int64)
    rank_by_key[np.lexsort((rng.random(len(building)), building))] = local
    occupied = rank_by_key >= vacant[building]
    return {
        "building": building[occupied],
        "unit": (local // per_unit[building] + 1)[occupied],
        "floor": floor[occupied],
        "room": (floor * 100 + within_unit % per_floor[building] + 1)[occupied],
    }


def _household_codes(building_code: np.ndarray, unit: np.ndarray, room: np.ndarray) -> np.ndarray:
    """ "<building code>-<unit>-<room>", e.g. 150203001001B012-2-502."""
    codes = np.strings.add(building_code.astype(str), "-")
    codes = np.strings.add(np.strings.add(codes, unit.astype(str)), "-")
    return np.strings.add(codes, room.astype(str)).astype(object)


def make_residents(households: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The members of every household: head first, then spouse, children, a parent."""
    members = households["members"].to_numpy()
    household = np.repeat(np.arange(len(households)), members)
    position = np.arange(len(household)) - np.repeat(np.cumsum(members) - members, members)
    n = len(household)

    head_year = np.select(
        [households["elderly_alone"].to_numpy(), households["empty_nest"].to_numpy()],
        [rng.integers(1931, 1956, len(households)), rng.integers(1936, 1962, len(households))],
        rng.integers(1960, 2001, len(households)),
    )[household]
    year = np.select(
        [position == 0, position == 1, position <= 3],
        [
            head_year,
            head_year + rng.integers(-4, 5, n),
            np.minimum(head_year + rng.integers(23, 36, n), REFERENCE_YEAR - 1),
        ],
        np.maximum(head_year - rng.integers(24, 33, n), 1928),
    )
    year_start = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    birth = year_start + (rng.random(n) * (365 + leap)).astype(np.int64)
    adult = REFERENCE_YEAR - year >= 16
    phone = np.where(adult & (rng.random(n) < PHONE_SHARE_ADULTS), fake_phones(rng, n), "")
    return pd.DataFrame(
        {
            "household_code": households["code"].to_numpy()[household],
            "name": person_names(rng, n),
            "birth_year": year,
            "id_number": fake_id_numbers(DISTRICT_CODE, birth, rng),
            "phone": phone,
        }
    )
