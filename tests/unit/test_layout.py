"""The package layout and its layering contracts (``.importlinter``), checked for real.

Each contract is shown to fail: a copy of the package gets one forbidden import and the real
``lint-imports`` must report that contract broken. The tree itself passes (``make lint`` runs it).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "wms_connector"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(root / ".importlinter")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_tree_keeps_every_contract(tmp_path: Path) -> None:
    shutil.copytree(PACKAGE, tmp_path / "src" / "wms_connector", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / ".importlinter", tmp_path / ".importlinter")
    result = _lint_imports(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 kept, 0 broken" in result.stdout


# (module to damage, the import added, the contract that must then be reported broken)
BROKEN_IMPORTS = [
    ("naming.py", "import boto3", "The pure core imports no I/O, CLI or CDK library"),
    ("kafka/deletion.py", "import confluent_kafka", "The pure core imports no I/O, CLI or CDK library"),
    # Indirect: the pure config module reaches httpx through the REST client.
    ("connect/worker_config.py", "import wms_connector.connect.rest", "The pure core imports no I/O"),
    ("kafka/admin.py", "import wms_connector.commands.common", "Nothing below the CLI imports the CLI"),
    (
        "agent/__init__.py",
        "import wms_connector.infra.inputs",
        "infra/ is imported only by the synth and cost",
    ),
    ("local/procs.py", "import aws_cdk", "infra/ is imported only by the synth and cost"),
    ("lambdas/topics.py", "import rich", "Lambda handlers import only what the Lambda bundle ships"),
    ("image/build.py", "import wms_connector.infra.connect_service", "infra/ is imported only by the synth"),
    ("image/fingerprint.py", "import subprocess", "The image's pure modules do not import its docker shell"),
    (
        "image/context.py",
        "import wms_connector.image.engine",
        "The image's pure modules do not import its docker shell",
    ),
    (
        "operations/signals.py",
        "import wms_connector.operations.shell",
        "The operations' pure modules do not import their shell",
    ),
    ("operations/remote.py", "import subprocess", "The operations' pure modules do not import their shell"),
    ("operations/tables.py", "import httpx", "The pure core imports no I/O"),
    ("audit/compare.py", "import psycopg", "The pure core imports no I/O, CLI or CDK library"),
    ("audit/compare.py", "import wms_connector.audit.run", "The audit's compare and EMF modules do not"),
    ("audit/emf.py", "import wms_connector.audit.topic", "The audit's compare and EMF modules do not"),
    ("audit/ranges.py", "import wms_connector.audit.standin", "The audit's compare and EMF modules do not"),
    ("audit/ranges.py", "import psycopg", "The pure core imports no I/O, CLI or CDK library"),
]


@pytest.mark.parametrize(("module", "statement", "contract"), BROKEN_IMPORTS)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, statement: str, contract: str
) -> None:
    copy = tmp_path / "src" / "wms_connector"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / ".importlinter", tmp_path / ".importlinter")
    target = copy / module
    target.write_text(target.read_text() + f"\n{statement}  # deliberately broken\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout


def _top_level_names() -> list[str]:
    names = []
    for entry in sorted(PACKAGE.iterdir()):
        if entry.name.startswith(("_", ".")) or entry.name in ("py.typed", "data"):
            continue
        if entry.is_dir() and (entry / "__init__.py").exists():
            names.append(entry.name)
        elif entry.suffix == ".py":
            names.append(entry.stem)
    return names


def test_no_two_top_level_modules_share_a_domain_prefix() -> None:
    prefixes: dict[str, list[str]] = {}
    for name in _top_level_names():
        prefixes.setdefault(re.split(r"_", name)[0], []).append(name)
    # "topic" and "topics" are one domain too: compare singular stems.
    stems: dict[str, list[str]] = {}
    for prefix, names in prefixes.items():
        stems.setdefault(prefix.rstrip("s"), []).extend(names)
    shared = {stem: names for stem, names in stems.items() if len(names) > 1}
    assert shared == {}


def test_every_package_opens_with_a_docstring() -> None:
    for init in sorted(PACKAGE.rglob("__init__.py")):
        text = init.read_text().lstrip()
        assert text.startswith('"""'), f"{init.relative_to(REPO)} has no docstring"


def test_readme_table_names_every_top_level_module_and_package() -> None:
    readme = (REPO / "README.md").read_text()
    table = readme.split("## What is here", 1)[1].split("\n## ", 1)[0]
    for name in _top_level_names():
        shown = f"`{name}/`" if (PACKAGE / name).is_dir() else f"`{name}.py`"
        if name == "stages":
            shown = "`src/wms_connector/stages.py`"
        assert shown in table, f"README's 'What is here' table does not mention {shown}"
    for row in table.splitlines()[2:]:
        first_column = row.split("|")[1] if row.startswith("|") else ""
        for cited in re.findall(r"`([^`]+)`", first_column):
            name = cited.removeprefix("src/wms_connector/").rstrip("/")
            found = (REPO / cited).exists() or any(PACKAGE.rglob(name)) or (PACKAGE / name).exists()
            assert found, f"README's 'What is here' table names {cited}, which is not in the tree"
