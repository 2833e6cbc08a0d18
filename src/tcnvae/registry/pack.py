"""One release as one tarball, and back: `NAME-vX.Y.Z.tar.gz` + `NAME-vX.Y.Z.tar.gz.sha256`.

This is the shape the seed attached to its GitHub releases. Inside, every file sits under
`NAME/vX.Y.Z/`. Packing verifies the release first. Unpacking trusts nothing: it checks the
.sha256 beside the tarball when there is one, refuses absolute paths, `..`, links, devices and
anything outside `NAME/vX.Y.Z/`, sparse entries, and — from the headers, before writing a
byte — an entry over `MAX_ENTRY_BYTES`, a total over `MAX_TOTAL_BYTES` or a total more than
`MAX_RATIO` times the tarball (a gzip bomb); then it writes the files itself into a staging
folder (no `extractall`), verifies every checksum there, and only then renames the version
into place.
"""

from __future__ import annotations

import logging
import os
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath

from tcnvae.errors import one_of
from tcnvae.registry.checksums import sha256_file
from tcnvae.registry.store import NAME, SEMVER, Registry, Release, RegistryError, verify_release

log = logging.getLogger(__name__)

MAX_MEMBERS = 10_000  # a release has a few dozen files; refuse tar bombs made of entries
MAX_ENTRY_BYTES = 1 << 30  # weights and exports of an edge model are tens of MB
MAX_TOTAL_BYTES = 4 << 30
MAX_RATIO = 50  # safetensors/ONNX compress ~1.1x; JSON and npy a few x; zeros 1000x


def tarball_name(name: str, version: str) -> str:
    return f"{name}-{version}.tar.gz"


def pack(registry: Registry, ref: str, out_dir: str | Path = ".") -> tuple[Path, Path]:
    """Verify `ref`, then write out_dir/NAME-vX.Y.Z.tar.gz and its .sha256; returns both paths."""
    release = registry.open(ref)  # verifies checksums and formats; raises if anything is off
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / tarball_name(release.name, release.version)
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with tarfile.open(tmp, "w:gz") as tar:
            for p in sorted(release.path.rglob("*")):
                if p.is_file():
                    arc = f"{release.name}/{release.version}/{p.relative_to(release.path).as_posix()}"
                    tar.add(p, arcname=arc, recursive=False, filter=_anonymous)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    sha_path = target.with_name(target.name + ".sha256")
    sha_path.write_text(f"{sha256_file(target)}  {target.name}\n")
    log.info("packed %s into %s", release.ref, target)
    return target, sha_path


def _anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o644
    return info


def check_sidecar(tarball: Path) -> bool:
    """Check NAME.tar.gz.sha256 when it exists; True if checked, raises on a mismatch."""
    sidecar = tarball.with_name(tarball.name + ".sha256")
    if not sidecar.is_file():
        return False
    words = sidecar.read_text().split()
    if not words or len(words[0]) != 64:
        raise RegistryError(f"{sidecar}: not in sha256sum format")
    actual = sha256_file(tarball)
    if words[0].lower() != actual:
        raise RegistryError(f"{tarball}: sha256 {actual} does not match {sidecar} ({words[0]}); refusing to unpack")
    return True


def _members(tar: tarfile.TarFile, tarball: Path) -> tuple[str, str, list[tuple[tarfile.TarInfo, str]]]:
    """(name, version, [(member, path inside the version)]) after refusing anything unsafe."""
    found: list[tuple[tarfile.TarInfo, str]] = []
    tops: set[tuple[str, str]] = set()
    for i, m in enumerate(tar):
        if i >= MAX_MEMBERS:
            raise RegistryError(f"{tarball}: more than {MAX_MEMBERS} entries; not a release")
        path = PurePosixPath(m.name)
        if path.is_absolute() or ".." in path.parts or m.name.startswith("/"):
            raise RegistryError(f"{tarball}: unsafe path {m.name!r} (absolute or with ..)")
        if not (m.isfile() or m.isdir()):
            raise RegistryError(f"{tarball}: {m.name!r} is a link, device or other special file; refusing")
        parts = [p for p in path.parts if p != "."]
        if len(parts) < 2 or not NAME.match(parts[0]) or not SEMVER.match(parts[1]) or not parts[1].startswith("v"):
            raise RegistryError(f"{tarball}: {m.name!r} is not under NAME/vX.Y.Z/")
        tops.add((parts[0], parts[1]))
        if m.issparse():
            raise RegistryError(f"{tarball}: {m.name!r} is a sparse entry; a release has none")
        if m.isfile():
            if m.size > MAX_ENTRY_BYTES:
                raise RegistryError(f"{tarball}: {m.name!r} would unpack to {m.size} bytes, over the "
                                    f"{MAX_ENTRY_BYTES}-byte limit per file; refusing before writing")
            if len(parts) == 2:
                raise RegistryError(f"{tarball}: {m.name!r} is a file where the version folder belongs")
            found.append((m, "/".join(parts[2:])))
    if len(tops) != 1:
        raise RegistryError(f"{tarball}: expected exactly one NAME/vX.Y.Z/ folder, found {one_of(sorted(tops), 'and')}")
    name, version = tops.pop()
    _check_budget(tarball, sum(m.size for m, _ in found))
    return name, version, found


def _check_budget(tarball: Path, total: int) -> None:
    """Refuse, before writing anything, a release that would unpack too big or too well."""
    if total > MAX_TOTAL_BYTES:
        raise RegistryError(f"{tarball}: would unpack to {total} bytes, over the {MAX_TOTAL_BYTES}-byte limit")
    packed = max(tarball.stat().st_size, 1)
    if total > MAX_RATIO * packed and total > 1 << 20:
        raise RegistryError(f"{tarball}: {packed} bytes would unpack to {total} bytes ({total / packed:.0f}x, "
                            f"limit {MAX_RATIO}x): a compression bomb, not a release")


def unpack(registry: Registry, tarball: str | Path) -> Release:
    """Install a packed release into `registry`; refuses an existing version and any unsafe entry."""
    tarball = Path(tarball)
    if not tarball.is_file():
        raise RegistryError(f"{tarball}: no such file")
    checked = check_sidecar(tarball)
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            name, version, members = _members(tar, tarball)
            if version in registry.versions(name):
                raise RegistryError(f"{name}@{version} already exists in {registry.root}; refusing to overwrite")
            staging = registry.staging_dir(name)
            try:
                _extract(tar, members, staging)
                report = verify_release(staging)
                if not report.ok:
                    raise RegistryError(f"{tarball}: {name}@{version} failed verification: "
                                        + "; ".join(report.problems()))
                summary = (f"- unpacked from `{tarball.name}` (sha256 `{sha256_file(tarball)}`"
                           f"{', matched its .sha256' if checked else ', no .sha256 beside it'})")
                return registry.publish(staging, name, version, summary)
            finally:
                if staging.exists():
                    shutil.rmtree(staging, ignore_errors=True)
    except (tarfile.TarError, EOFError, zlib.error) as e:
        raise RegistryError(f"{tarball}: not a readable .tar.gz ({e})") from e
    except OSError as e:  # gzip.BadGzipFile, disk full, a racing writer: nothing was installed
        raise RegistryError(f"{tarball}: unpack failed, nothing was installed ({e})") from e


def _extract(tar: tarfile.TarFile, members: list[tuple[tarfile.TarInfo, str]], staging: Path) -> None:
    """Write regular files ourselves: no extractall, so no metadata, links or modes from the tar."""
    for member, rel in members:
        dst = staging / rel
        if dst.exists():
            raise RegistryError(f"{rel}: appears twice in the tarball")
        dst.parent.mkdir(parents=True, exist_ok=True)
        src = tar.extractfile(member)
        if src is None:
            raise RegistryError(f"{member.name}: cannot be read from the tarball")
        with src, open(dst, "wb") as out:
            shutil.copyfileobj(src, out)
