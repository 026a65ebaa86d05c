"""Use cases shared by the CLI and the web views."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from geo import queries
from geo.io import read_wards

logger = logging.getLogger(__name__)


@dataclass
class WardImport:
    version: int
    n_wards: int
    unchanged: bool
    repairs: list[str]
    warnings: list[str]


def import_wards(conn: Connection, path: Path, code_field: str,
                 name_field: str | None = None,
                 layer: str | None = None) -> WardImport:
    """Read a ward file and make it the current ward set.

    Importing boundaries identical to the current set keeps that set's version
    instead of adding an equal one.
    """
    ward_file = read_wards(path, code_field, name_field, layer)
    current = queries.current_ward_set(conn)
    digest = ward_file.content_hash
    n_wards = len(ward_file.wards)
    if current and current["content_hash"] == digest:
        return WardImport(current["version"], n_wards, True,
                          ward_file.repairs, ward_file.warnings)

    version = queries.store_ward_set(conn, ward_file.wards, Path(path).name, digest)

    logger.info("ward set version %d imported: %d wards", version, n_wards)
    return WardImport(version, n_wards, False, ward_file.repairs,
                      ward_file.warnings)
