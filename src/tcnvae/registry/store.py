"""Releases, references and aliases: models/<name>/v<semver>/ and models/<name>/aliases.json.

A release is written into a hidden temporary folder and renamed into place, so a crash never
leaves half a version; released files are never modified. The one exception is `export/`,
an add-only folder that `tcnvae export` fills, extending SHA256SUMS atomically.
Every load path opens a release through `Registry.open`, which verifies checksums first.

Two registries by default: `models/` ships with the repository (committed, read-only for
users) and `user-models/` (git-ignored) receives the user's own releases, aliases and
changelog, so training, releasing or promoting never modifies a tracked file. `Registry()`
reads both (a version lives in one of them; a user alias overrides a shipped one) and writes
only to `user-models/`; `Registry(DIR)` is exactly one folder, read and written.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from tcnvae.errors import TcnvaeError
from tcnvae.registry.checksums import (VerifyReport, compute_sums, read_sums, sha256_file,
                                       verify_folder, write_sums)
from tcnvae.registry.formats import npy_problem, safetensors_problem, staging_is_stale

log = logging.getLogger(__name__)

SEMVER = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
ALIASES_FILE = "aliases.json"
CHANGELOG = "CHANGELOG.md"
CHANGES_DIR = ".changes"  # NAME/.changes/vX.Y.Z.md: each CHANGELOG entry, written before the rename
STAGING_PREFIX = ".staging-"
# Files a run directory must provide, copied verbatim into the release.
RUN_FILES = ("model_config.json", "normalization.json", "labels.json", "eval_metrics.json",
             "motifs.json", "train_config.json")
WEIGHTS_FULL = "full.safetensors"
WEIGHTS_ENCODER = "encoder.safetensors"
SAMPLES = ("samples/calibration.npy", "samples/heldout.npz")
SHIPPED_MODELS = Path("models")      # committed with the repository
USER_MODELS = Path("user-models")    # git-ignored: the user's own releases


class RegistryError(TcnvaeError):
    """A bad reference, version, or a release that fails verification (names what and where)."""


def parse_version(text: str) -> tuple[int, int, int]:
    m = SEMVER.match(text)
    if not m:
        raise RegistryError(f"malformed version {text!r}: expected MAJOR.MINOR.PATCH, e.g. 1.2.0")
    return int(m[1]), int(m[2]), int(m[3])


def format_version(v: tuple[int, int, int]) -> str:
    return f"v{v[0]}.{v[1]}.{v[2]}"


def bump(v: tuple[int, int, int], part: str) -> tuple[int, int, int]:
    if part == "major":
        return v[0] + 1, 0, 0
    if part == "minor":
        return v[0], v[1] + 1, 0
    if part == "patch":
        return v[0], v[1], v[2] + 1
    raise RegistryError(f"unknown bump {part!r}: use major, minor or patch")


@dataclass(frozen=True)
class Release:
    """A verified release folder and what is needed to run it."""

    path: Path
    name: str
    version: str  # "v1.2.3"

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def export_dir(self) -> Path:
        return self.path / "export"

    def read_json(self, filename: str) -> dict:
        return json.loads((self.path / filename).read_text())

    @property
    def labels(self) -> list[str]:
        return list(self.read_json("labels.json")["labels"])

    @property
    def weights_sha256(self) -> str:
        return read_sums(self.path)[WEIGHTS_ENCODER]

    def normalizer(self):
        from tcnvae.data.normalize import Normalizer

        return Normalizer.load(self.path / "normalization.json")

    def load_model(self, full: bool = False):
        """TCNVAE in eval mode from safetensors (the encoder file unless full=True)."""
        from tcnvae.model.checkpoint import load_model

        path = self.path / (WEIGHTS_FULL if full else WEIGHTS_ENCODER)
        model, _ = load_model(path, strict=full)
        return model

    def load_encoder(self):
        from tcnvae.model.vae import DeployableEncoder

        return DeployableEncoder(self.load_model()).eval()


class Registry:
    """Releases under `root` (written and read) and, by default, the shipped `models/` (read).

    `Registry()` / `Registry(None)`: writes go to `user-models/`, reads see it and `models/`.
    `Registry(DIR)`: exactly DIR (how the shipped registry itself is maintained: `--models models`).
    """

    def __init__(self, root: str | Path | None = None, shipped: str | Path | None = None) -> None:
        if root is None:
            root, shipped = USER_MODELS, SHIPPED_MODELS if shipped is None else shipped
        self.root = Path(root)
        self.shipped = Path(shipped) if shipped is not None else None
        if self.shipped is not None and self.shipped.resolve() == self.root.resolve():
            self.shipped = None

    @property
    def roots(self) -> list[Path]:
        """Where releases are looked up, the writable root first."""
        return [self.root] + ([self.shipped] if self.shipped is not None else [])

    @property
    def where(self) -> str:
        """The searched folders in words, for messages."""
        return " and ".join(f"{r}/" for r in self.roots)

    # -- references -------------------------------------------------------------------
    def versions(self, name: str) -> list[str]:
        found: set[str] = set()
        for root in self.roots:
            folder = root / name
            if folder.is_dir():
                found.update(p.name for p in folder.iterdir()
                             if p.is_dir() and SEMVER.match(p.name) and p.name.startswith("v"))
        return sorted(found, key=parse_version)

    def path_of(self, name: str, version: str) -> Path:
        """The folder of name/version: the writable root's if it has it, else the shipped one's."""
        for root in self.roots:
            if (root / name / version).is_dir():
                return root / name / version
        return self.root / name / version

    def is_shipped(self, release: "Release") -> bool:
        """True for a release read from the shipped registry (never written through this one)."""
        return self.shipped is not None and release.path.parent.parent.resolve() == self.shipped.resolve()

    def aliases(self, name: str) -> dict[str, str]:
        merged: dict[str, str] = {}
        for root in reversed(self.roots):  # the writable root's aliases win
            path = root / name / ALIASES_FILE
            if path.is_file():
                merged.update(json.loads(path.read_text()))
        return merged

    def resolve(self, ref: str) -> tuple[str, str]:
        """`name@vX.Y.Z`, `name@alias` or `name` (its champion, else its latest) -> (name, version)."""
        name, _, tag = ref.partition("@")
        if not NAME.match(name):
            raise RegistryError(f"malformed reference {ref!r}: expected name@vX.Y.Z or name@alias")
        versions = self.versions(name)
        if not versions:
            known = self.names()
            raise RegistryError(f"no model named {name!r} (looked in {self.where}); "
                                + (f"models there: {_words(known)}" if known else "it holds no releases"))
        aliases = self.aliases(name)
        if not tag:
            tag = "champion" if "champion" in aliases else versions[-1]
        if SEMVER.match(tag):
            version = format_version(parse_version(tag))
        elif tag in aliases:
            version = aliases[tag]
        else:
            raise RegistryError(f"{name} has no version or alias {tag!r} (looked in {self.where}); "
                                + self.choices(name))
        if version not in versions:
            raise RegistryError(f"{name}@{version} does not exist (looked in {self.where}); " + self.choices(name))
        return name, version

    def choices(self, name: str) -> str:
        """The versions and aliases of `name`, in words (for error messages)."""
        aliases = self.aliases(name)
        said = f"versions: {_words(self.versions(name))}"
        if aliases:
            said += "; aliases: " + ", ".join(f"{a} (-> {v})" for a, v in sorted(aliases.items()))
        return said

    def names(self) -> list[str]:
        """Every model name with at least one released version."""
        found = {p.name for root in self.roots if root.is_dir() for p in root.iterdir()
                 if p.is_dir() and NAME.match(p.name)}
        return sorted(n for n in found if self.versions(n))

    def verify(self, ref: str) -> tuple[Release, VerifyReport]:
        """Recompute every checksum and check the weight formats, without raising on problems."""
        name, version = self.resolve(ref)
        release = Release(self.path_of(name, version), name, version)
        return release, self._verify(release)

    def _verify(self, release: Release) -> VerifyReport:
        """verify_release, refusing a version folder (or its model folder) that is a symlink: a
        link would let files from outside the registry pass as a release."""
        linked = [p for p in (release.path.parent, release.path) if p.is_symlink()]
        if linked:
            report = VerifyReport(release.path)
            report.unsafe += [f"{p.relative_to(release.path.parent.parent).as_posix()} is a symlink (to {os.readlink(p)}); "
                              "releases must be real folders inside the registry" for p in linked]
            return report
        return verify_release(release.path)

    def open(self, ref: str, verify: bool = True) -> Release:
        name, version = self.resolve(ref)
        release = Release(self.path_of(name, version), name, version)
        report = self._verify(release) if verify else None
        if report is not None and not report.ok:
            raise RegistryError(f"{release.ref} failed verification in {release.path}: "
                                + "; ".join(report.problems()))
        return release

    # -- writing ------------------------------------------------------------------------
    def next_version(self, name: str, part: str = "minor") -> str:
        versions = self.versions(name)
        if not versions:
            return "v0.1.0"
        return format_version(bump(parse_version(versions[-1]), part))

    def publish(self, staging: Path, name: str, version: str, summary: str) -> Release:
        """Checksum a fully written staging folder and rename it into place as name/version."""
        if not NAME.match(name):
            raise RegistryError(f"malformed model name {name!r}")
        version = format_version(parse_version(version))
        target = self.root / name / version
        if target.exists() or version in self.versions(name):
            raise RegistryError(f"{name}@{version} already exists at {self.path_of(name, version)}; "
                                "released versions are never modified")
        date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        # The CHANGELOG entry is written beside the versions before the atomic rename, so a crash
        # after the rename cannot lose it: sync_changelog() (now, or on the next release or
        # `verify --fix`) adds the entry of every published version that CHANGELOG.md lacks.
        _atomic_write_text(self._entry_path(name, version), f"## {name}@{version} — {date}\n\n{summary.strip()}\n")
        write_sums(staging, compute_sums(staging))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, target)  # atomic on one filesystem: all of the version or none
        self.sync_changelog()
        log.info("released %s@%s at %s", name, version, target)
        return Release(target, name, version)

    def staging_dir(self, name: str) -> Path:
        """A fresh staging folder named after this process, after removing stale ones."""
        (self.root / name).mkdir(parents=True, exist_ok=True)
        self.clean_staging()
        return Path(tempfile.mkdtemp(dir=self.root / name, prefix=f"{STAGING_PREFIX}{os.getpid()}-"))

    def clean_staging(self) -> list[Path]:
        """Remove staging folders left by killed releases (their process is gone); returns them."""
        removed = []
        for folder in sorted(self.root.glob(f"*/{STAGING_PREFIX}*")) if self.root.is_dir() else []:
            if folder.is_dir() and not folder.is_symlink() and staging_is_stale(folder):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
                log.info("removed stale staging folder %s", folder)
        return removed

    def promote(self, ref: str, alias: str) -> str:
        if not re.match(r"^[a-z][a-z0-9_\-]{0,31}$", alias) or SEMVER.match(alias):
            raise RegistryError(f"malformed alias {alias!r}")
        name, version = self.resolve(ref)
        self.open(f"{name}@{version}")  # never point an alias at a release that fails verification
        own = self.root / name / ALIASES_FILE  # only this root's aliases: a shipped alias stays in models/
        aliases = {**(json.loads(own.read_text()) if own.is_file() else {}), alias: version}
        _atomic_write_text(own, json.dumps(aliases, indent=2, sort_keys=True) + "\n")
        return version

    def add_files(self, release: Release, files: dict[str, Path]) -> None:
        """Add new files under release/export/ (add-only) and extend SHA256SUMS atomically."""
        if self.is_shipped(release):
            raise RegistryError(f"{release.ref} is a shipped release in {self.shipped}, read-only from the default "
                                f"registry; to change the shipped registry itself pass --models {self.shipped}")
        sums = read_sums(release.path)
        for rel, src in files.items():
            if not rel.startswith("export/") or ".." in Path(rel).parts:
                raise RegistryError(f"{rel}: only files under export/ may be added to a release")
            dst = release.path / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if Path(src).resolve() != dst.resolve():
                tmp = dst.with_name(f".{dst.name}.tmp")
                shutil.copyfile(src, tmp)
                os.replace(tmp, dst)
            sums[rel] = sha256_file(dst)
        write_sums(release.path, sums)

    def _entry_path(self, name: str, version: str) -> Path:
        return self.root / name / CHANGES_DIR / f"{version}.md"

    def sync_changelog(self) -> list[str]:
        """Add to CHANGELOG.md the entry of every published version it lacks (from NAME/.changes/),
        newest first; entries already there are kept as they are. Returns the refs added."""
        path = self.root / CHANGELOG
        head = "# Changelog\n\nEvery release in this registry, newest first.\n\n"
        old = path.read_text() if path.is_file() else head
        body = old[len(head):] if old.startswith(head) else old
        listed = set(re.findall(r"^## (\S+@v\d+\.\d+\.\d+)", body, flags=re.M))
        missing = []
        for name in self.names():
            for version in self.versions(name):
                entry = self._entry_path(name, version)
                if f"{name}@{version}" not in listed and entry.is_file() and not entry.is_symlink():
                    missing.append((entry.stat().st_mtime, f"{name}@{version}", entry.read_text().strip()))
        if missing:
            added = "".join(f"{text}\n\n" for _, _, text in sorted(missing, reverse=True))
            _atomic_write_text(path, head + added + body)
        return [ref for _, ref, _ in missing]


def _words(items: list[str]) -> str:
    return ", ".join(items) if items else "none"


def verify_release(folder: Path) -> VerifyReport:
    """verify_folder plus format checks: a .safetensors file must be safetensors, and every
    .npy/.npz must load with allow_pickle=False (no object arrays).

    The format checks matter when SHA256SUMS was regenerated after a swap: a pickle renamed
    to encoder.safetensors, or a pickled calibration.npy, then has a "valid" checksum, and
    must still never reach a loader.
    """
    report = verify_folder(folder)
    for pattern, check in (("*.safetensors", safetensors_problem), ("*.npy", npy_problem), ("*.npz", npy_problem)):
        for p in sorted(folder.rglob(pattern)):
            if p.is_file() and not p.is_symlink():
                why = check(p)
                if why:
                    report.malformed.append(f"{p.relative_to(folder).as_posix()} ({why})")
    return report


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
