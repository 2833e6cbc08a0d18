"""The default registry: the user's git-ignored `user-models/` over the shipped `models/`.

Built from bare, checksummed folders (no training): resolution, numbering, aliases, where
writes go, and the wording of an unknown reference.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tcnvae.registry.checksums import compute_sums, write_sums
from tcnvae.registry.store import Registry, RegistryError


def _release(root: Path, version: str) -> Path:
    folder = root / "tcn_encoder" / version
    folder.mkdir(parents=True)
    (folder / "labels.json").write_text('{"labels": ["a", "b"]}')
    write_sums(folder, compute_sums(folder))
    return folder


@pytest.fixture()
def layers(tmp_path: Path) -> Registry:
    shipped, user = tmp_path / "models", tmp_path / "user-models"
    for v in ("v1.0.0", "v1.1.0"):
        _release(shipped, v)
    (shipped / "tcn_encoder" / "aliases.json").write_text('{"champion": "v1.1.0"}')
    _release(user, "v1.2.0")
    return Registry(user, shipped=shipped)


def test_versions_and_aliases_span_both_folders(layers: Registry) -> None:
    assert layers.versions("tcn_encoder") == ["v1.0.0", "v1.1.0", "v1.2.0"]
    assert layers.resolve("tcn_encoder") == ("tcn_encoder", "v1.1.0")  # the shipped champion
    assert layers.next_version("tcn_encoder") == "v1.3.0"  # numbered after the shipped ones
    assert layers.path_of("tcn_encoder", "v1.0.0") == layers.shipped / "tcn_encoder" / "v1.0.0"
    assert layers.path_of("tcn_encoder", "v1.2.0") == layers.root / "tcn_encoder" / "v1.2.0"
    assert layers.is_shipped(layers.open("tcn_encoder@v1.0.0"))
    assert not layers.is_shipped(layers.open("tcn_encoder@v1.2.0"))


def test_promote_writes_only_the_user_folder_and_wins(layers: Registry) -> None:
    shipped_aliases = (layers.shipped / "tcn_encoder" / "aliases.json").read_text()
    layers.promote("tcn_encoder@v1.2.0", "champion")
    assert layers.resolve("tcn_encoder@champion") == ("tcn_encoder", "v1.2.0")
    assert (layers.shipped / "tcn_encoder" / "aliases.json").read_text() == shipped_aliases
    assert json.loads((layers.root / "tcn_encoder" / "aliases.json").read_text()) == {"champion": "v1.2.0"}


def test_a_shipped_release_is_read_only_from_the_default_registry(layers: Registry, tmp_path: Path) -> None:
    extra = tmp_path / "report.json"
    extra.write_text("{}")
    with pytest.raises(RegistryError, match="shipped release .* --models"):
        layers.add_files(layers.open("tcn_encoder@v1.0.0"), {"export/report.json": extra})
    with pytest.raises(RegistryError, match="already exists"):
        layers.publish(tmp_path, "tcn_encoder", "v1.0.0", "again")


def test_unknown_reference_lists_what_exists_in_words(layers: Registry) -> None:
    with pytest.raises(RegistryError) as err:
        layers.resolve("tcn_encoder@v9.9.9")
    message = str(err.value)
    assert "tcn_encoder@v9.9.9 does not exist" in message
    assert "versions: v1.0.0, v1.1.0, v1.2.0" in message and "aliases: champion (-> v1.1.0)" in message
    assert "[" not in message and "{" not in message  # words, not a Python list or dict
    with pytest.raises(RegistryError, match="has no version or alias 'best'.*versions: v1.0.0"):
        layers.resolve("tcn_encoder@best")
    with pytest.raises(RegistryError, match="no model named 'other'.*models there: tcn_encoder"):
        layers.resolve("other")


def test_a_folder_given_alone_is_exactly_that_folder(layers: Registry) -> None:
    only = Registry(layers.shipped)
    assert only.roots == [layers.shipped] and only.versions("tcn_encoder") == ["v1.0.0", "v1.1.0"]
    default = Registry()
    assert [str(r) for r in default.roots] == ["user-models", "models"]
