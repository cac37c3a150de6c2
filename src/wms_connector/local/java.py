"""Find a Java runtime and check it is new enough for Kafka 4 (Java 17)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from wms_connector.errors import WmsError

MIN_JAVA: Final = 17
_VERSION: Final = re.compile(r'version "(?P<v>[^"]+)"')


def parse_java_major(version_output: str) -> int | None:
    """The major version from ``java -version`` output (``"1.8.0_292"`` -> 8, ``"17.0.15"`` -> 17)."""
    match = _VERSION.search(version_output)
    if match is None:
        return None
    parts = match.group("v").split(".")
    head = parts[0].split("-")[0].split("+")[0]
    if not head.isdigit():
        return None
    if head == "1" and len(parts) > 1 and parts[1].isdigit():
        return int(parts[1])
    return int(head)


@dataclass(frozen=True)
class Java:
    executable: Path
    major: int


def find_java(environ: dict[str, str] | None = None) -> Java:
    """``$JAVA_HOME/bin/java`` or ``java`` on PATH, version >= 17; a clear error otherwise."""
    env = dict(os.environ) if environ is None else environ
    home = env.get("JAVA_HOME")
    candidate = Path(home) / "bin" / "java" if home else None
    if candidate is not None and not candidate.is_file():
        # A set but wrong JAVA_HOME is a mistake to report, not to paper over with PATH's java.
        raise WmsError(
            f"JAVA_HOME={home!r} holds no bin/java: point it at a JDK {MIN_JAVA}+ (or unset it to use "
            "`java` from PATH)"
        )
    if candidate is None:
        found = shutil.which("java", path=env.get("PATH"))
        candidate = Path(found) if found else None
    if candidate is None:
        raise WmsError(
            f"no Java runtime found (JAVA_HOME unset or wrong, no `java` on PATH): the local Kafka "
            f"runtime needs Java {MIN_JAVA} or newer; install a JDK {MIN_JAVA}+ "
            "(e.g. `apt-get install openjdk-17-jdk-headless`) or set JAVA_HOME"
        )
    result = subprocess.run([str(candidate), "-version"], capture_output=True, text=True, check=False)
    major = parse_java_major(result.stderr + result.stdout)
    if major is None:
        raise WmsError(
            f"cannot tell the version of {candidate} (`java -version` said: {result.stderr.strip()!r})"
        )
    if major < MIN_JAVA:
        raise WmsError(
            f"{candidate} is Java {major}; Kafka 4 needs Java {MIN_JAVA} or newer: install a JDK "
            f"{MIN_JAVA}+ and put it first on PATH or set JAVA_HOME"
        )
    return Java(candidate, major)
