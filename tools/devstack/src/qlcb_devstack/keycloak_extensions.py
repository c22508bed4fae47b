"""QLCB's Keycloak extensions (`deploy/keycloak/extensions/<name>`), built into provider jars.

Each extension is a Maven-layout source folder (`src/main/java`, `src/main/resources`). It is
compiled with the Eclipse compiler, a single jar from Maven Central, so any Java runtime that runs
Keycloak can build it: no JDK or Maven project build is needed. The classpath is the Keycloak
distribution's own jars, so an extension always compiles against the server it runs in.
"""

import hashlib
import subprocess
import tempfile
import zipfile
from pathlib import Path

from qlcb_devstack.jdk import find_java
from qlcb_devstack.maven import fetch_artifact
from qlcb_devstack.state import repo_root

ECJ_VERSION = "3.44.0"
ECJ_SHA256 = "14c46ddc2e511c46c998da728f6a80f13a689c920f3832402f7ad150f6a6188d"
JAVA_RELEASE = "21"
# Fixed entry times make a jar's bytes depend on its sources only.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def extensions_root() -> Path:
    return repo_root() / "deploy" / "keycloak" / "extensions"


def extension_folders(root: Path | None = None) -> list[Path]:
    base = root if root is not None else extensions_root()
    return sorted(p for p in base.iterdir() if (p / "src" / "main" / "java").is_dir()) if base.is_dir() else []


def jar_name(folder: Path) -> str:
    return f"qlcb-{folder.name}.jar"


def _source_files(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / "src" / "main").rglob("*") if p.is_file())


def sources_digest(folders: list[Path]) -> str:
    """Changes whenever any extension's sources or the compiler settings do."""
    digest = hashlib.sha256(f"ecj {ECJ_VERSION} release {JAVA_RELEASE}".encode())
    for folder in folders:
        for path in _source_files(folder):
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def build_extension(folder: Path, keycloak_home: Path, out_dir: Path) -> Path:
    """Compiles one extension against `keycloak_home`'s jars into `out_dir/qlcb-<name>.jar`."""
    sources = sorted((folder / "src" / "main" / "java").rglob("*.java"))
    if not sources:
        raise RuntimeError(f"{folder} has no Java sources under src/main/java")
    libraries = sorted((keycloak_home / "lib" / "lib").glob("*/*.jar"))
    ecj = fetch_artifact(f"org.eclipse.jdt:ecj:{ECJ_VERSION}", f"ecj-{ECJ_VERSION}.jar", ECJ_SHA256)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kc-ext-") as tmp:
        classes = Path(tmp) / "classes"
        result = subprocess.run(
            [
                str(find_java()),
                "-jar",
                str(ecj),
                "--release",
                JAVA_RELEASE,
                "-proc:none",
                "-nowarn",
                "-encoding",
                "UTF-8",
                "-classpath",
                ":".join(str(p) for p in libraries),
                "-d",
                str(classes),
                *(str(p) for p in sources),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            output = result.stdout + result.stderr
            raise RuntimeError(f"compiling the Keycloak extension {folder.name} failed:\n{output}")
        entries = [(p, p.relative_to(classes)) for p in classes.rglob("*") if p.is_file()]
        resources = folder / "src" / "main" / "resources"
        if resources.is_dir():
            entries += [(p, p.relative_to(resources)) for p in resources.rglob("*") if p.is_file()]
        jar = out_dir / jar_name(folder)
        partial = jar.with_suffix(".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for path, name in sorted(entries, key=lambda entry: entry[1].as_posix()):
                archive.writestr(zipfile.ZipInfo(name.as_posix(), _ZIP_TIME), path.read_bytes(), zipfile.ZIP_DEFLATED)
        partial.replace(jar)
    return jar


def install_extensions(keycloak_home: Path, root: Path | None = None) -> str:
    """Builds every extension into `keycloak_home/providers` unless already built from the same
    sources; returns the sources' digest, which names the distribution's build marker."""
    folders = extension_folders(root)
    digest = sources_digest(folders)
    providers = keycloak_home / "providers"
    stamp = providers / ".qlcb-extensions.sha256"
    if stamp.is_file() and stamp.read_text().strip() == digest:
        return digest
    for stale in providers.glob("qlcb-*.jar"):
        stale.unlink()
    for folder in folders:
        build_extension(folder, keycloak_home, providers)
    stamp.write_text(digest + "\n")
    return digest
