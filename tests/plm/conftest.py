"""Each PLM test stores uploaded documents in a data directory of its own (company ids repeat across the
per-test databases, so a shared directory would mix their files)."""

import pytest

from opensupply.core.config import get_settings


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "data_dir", tmp_path / "data")
