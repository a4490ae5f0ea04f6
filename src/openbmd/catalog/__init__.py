"""Catalogues: the package's YAML/CSV data turned into core objects (user layer).

One YAML helper (:mod:`openbmd.catalog._yaml`) serves every catalogue; each catalogue is one
module — places (sites and cities), missiles, sensors, interceptors, architectures.
"""

from __future__ import annotations

from openbmd.catalog._yaml import (
    check_unique_names,
    find_by_name,
    fold_name,
    read_data_yaml,
    require,
)
from openbmd.catalog.missiles import load_missiles, missile
from openbmd.catalog.places import (
    City,
    Place,
    Site,
    city,
    load_cities,
    load_places,
    load_sites,
    parse_places,
    place,
    site,
)

__all__ = [
    "City",
    "Place",
    "Site",
    "check_unique_names",
    "city",
    "find_by_name",
    "fold_name",
    "load_cities",
    "load_missiles",
    "load_places",
    "load_sites",
    "missile",
    "parse_places",
    "place",
    "read_data_yaml",
    "require",
    "site",
]
