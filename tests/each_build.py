"""Run a test module against the site of each builder (MkDocs and Zensical).

A module that imports these fixtures gets `built_site` and `product` parametrised over
`product_fixtures.BUILDERS` (test ids end in ``[mkdocs]`` / ``[zensical]``); the builds
and servers behind them are the session's (made once each). Modules that do not import
them keep the MkDocs build (the forms' tests, which do not depend on the builder)::

    from each_build import each_built_site, each_product, site_builder  # noqa: F401
"""

from __future__ import annotations

from pathlib import Path

import pytest
from product_fixtures import BUILDERS, Product


@pytest.fixture(scope="session", params=BUILDERS)
def site_builder(request: pytest.FixtureRequest) -> str:
    """Which builder made the site under test."""
    return str(request.param)


@pytest.fixture(name="built_site", scope="session")
def each_built_site(site_builder: str, request: pytest.FixtureRequest) -> Path:
    """The built site of each builder (import into a test module to run it on both)."""
    return Path(request.getfixturevalue(f"{site_builder}_site"))


@pytest.fixture(name="product", scope="session")
def each_product(site_builder: str, request: pytest.FixtureRequest) -> Product:
    """The served product of each builder (import into a test module to run it on both)."""
    running = request.getfixturevalue(f"{site_builder}_product")
    assert isinstance(running, Product)
    return running
