"""Read the pinned versions out of ``runtime/pom.xml`` (the one list of them)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Final

_NS: Final = "{http://maven.apache.org/POM/4.0.0}"


def pinned_versions(pom_text: str) -> dict[str, str]:
    """``{'kafka': '4.3.0', 'debezium': '3.6.1.Final', ...}`` from the ``*.version`` properties."""
    root = ET.fromstring(pom_text)  # noqa: S314 - our own checked-in file
    props = root.find(f"{_NS}properties")
    if props is None:
        return {}
    versions: dict[str, str] = {}
    for element in props:
        name = element.tag.removeprefix(_NS)
        if name.endswith(".version") and element.text and not name.startswith("project."):
            versions[name.removesuffix(".version")] = element.text.strip()
    return versions
