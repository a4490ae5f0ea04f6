"""Suite-wide set-up: the commands under test keep their caches in a throw-away folder."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """``openbmd analyze`` and ``campaign`` never write into the user's ``~/.cache``."""
    old = os.environ.get("OPENBMD_CACHE_DIR")
    os.environ["OPENBMD_CACHE_DIR"] = str(tmp_path_factory.mktemp("openbmd-cache"))
    yield
    if old is None:
        os.environ.pop("OPENBMD_CACHE_DIR", None)
    else:
        os.environ["OPENBMD_CACHE_DIR"] = old
