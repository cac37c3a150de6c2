"""The code asset of our Lambda functions: one bundle, built when it is missing or stale.

Every Lambda of the stacks (the topics resource, the secret-change redeploy) runs from one
directory, on the runtime its wheels are built for (:func:`bundled_function`): the manylinux
x86_64 cp312 wheels of the runtime dependencies, pinned by
``constraints.txt``, plus our package without ``infra/``. ``make lambda-bundle``, ``wms-connector
synth``/``cost`` and ``npx cdk synth`` all go through :func:`ensure_bundle`, which builds it with
the one pip command of :func:`pip_command` when the stamp in the bundle does not match the
fingerprint of its inputs (constraints, dependency list, our source). A build that fails (no
network to PyPI, no pip) stops in one line naming the command to run.

``python -m wms_connector.infra.bundle [DIR]`` builds it (that is what ``make lambda-bundle`` runs).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from wms_connector.errors import WmsError

if TYPE_CHECKING:
    from typing import Any

    from aws_cdk import aws_lambda
    from constructs import Construct

#: The runtime dependencies of the handlers (boto3 comes with Lambda's python3.12 runtime).
#: cryptography: the topics Lambda validates and writes the mtls client certificate (kafka_auth = mtls).
LAMBDA_DEPS: Final = ("confluent-kafka", "pydantic[email]", "aws-msk-iam-sasl-signer-python", "cryptography")
#: manylinux_2_28 is fine: Lambda's python3.12 runs on Amazon Linux 2023 (glibc 2.34).
PLATFORMS: Final = ("manylinux2014_x86_64", "manylinux_2_28_x86_64")
PYTHON_VERSION: Final = "3.12"
STAMP: Final = ".wms-bundle-stamp"
#: Left out of the bundle: the CDK code (never imported by a handler) and what Lambda provides.
_DROP: Final = ("wms_connector/infra", "boto3*", "botocore*", "s3transfer*", "bin")
PACKAGE_DIR: Final = Path(__file__).resolve().parents[1]

Builder = Callable[[Path, Path], None]


def pip_command(target: Path, constraints: Path) -> list[str]:
    """The one pip command that installs the dependencies' wheels for Lambda into ``target``."""
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--target",
        str(target),
        *platforms,
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        "-c",
        str(constraints),
        *LAMBDA_DEPS,
    ]


def _sources(package: Path) -> list[Path]:
    return sorted(
        p
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and "infra" not in p.relative_to(package).parts
    )


def fingerprint(constraints: Path, package: Path = PACKAGE_DIR) -> str:
    """Hash of everything the bundle is built from: constraints, dependency list, our source."""
    digest = hashlib.sha256()
    digest.update(constraints.read_bytes())
    digest.update("\0".join((*LAMBDA_DEPS, *PLATFORMS, PYTHON_VERSION)).encode())
    for path in _sources(package):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def is_current(bundle_dir: Path, constraints: Path, package: Path = PACKAGE_DIR) -> bool:
    stamp = bundle_dir / STAMP
    return stamp.is_file() and stamp.read_text().strip() == fingerprint(constraints, package)


def build(bundle_dir: Path, constraints: Path, package: Path = PACKAGE_DIR) -> None:
    """Build the bundle afresh into ``bundle_dir`` (pip, then our package), then stamp it."""
    shutil.rmtree(bundle_dir, ignore_errors=True)
    bundle_dir.mkdir(parents=True)
    command = pip_command(bundle_dir, constraints)
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise _failed(bundle_dir, type(error).__name__) from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["pip failed"])[-1][:300]
        raise _failed(bundle_dir, last)
    shutil.copytree(package, bundle_dir / "wms_connector", ignore=shutil.ignore_patterns("__pycache__"))
    for pattern in _DROP:
        for path in bundle_dir.glob(pattern):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for cache in sorted(bundle_dir.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache, ignore_errors=True)
    (bundle_dir / STAMP).write_text(fingerprint(constraints, package) + "\n")


def _failed(bundle_dir: Path, why: str) -> WmsError:
    return WmsError(
        f"building the Lambda bundle in {bundle_dir} failed ({why}); run `make lambda-bundle` "
        "(it needs pip and access to PyPI) and synth again"
    )


def ensure_bundle(bundle_dir: Path, constraints: Path, *, builder: Builder = build) -> Path:
    """``bundle_dir``, built first when it is missing or older than its inputs."""
    if not constraints.is_file():
        raise WmsError(
            f"cannot build the Lambda bundle: {constraints} is missing (it pins the bundle's wheels); "
            "synth from the wms-connector checkout, or pass a built bundle with --lambda-bundle"
        )
    if not is_current(bundle_dir, constraints):
        builder(bundle_dir, constraints)
    return bundle_dir


def lambda_code(bundle_dir: Path) -> aws_lambda.Code:
    """The code asset of any of our Lambda handlers (they share the one bundle)."""
    from aws_cdk import aws_lambda

    return aws_lambda.Code.from_asset(str(bundle_dir), exclude=[STAMP])


def bundled_function(
    scope: Construct, id_: str, *, code: aws_lambda.Code, **props: Any
) -> aws_lambda.Function:
    """A Lambda function running ``code`` (from :func:`lambda_code`) on the runtime and the
    architecture its wheels were built for (``PYTHON_VERSION``, x86_64): the one place they meet."""
    from aws_cdk import aws_lambda

    from wms_connector.infra.nag import checkov_skip

    function = aws_lambda.Function(
        scope,
        id_,
        runtime=aws_lambda.Runtime(f"python{PYTHON_VERSION}", aws_lambda.RuntimeFamily.PYTHON),
        architecture=aws_lambda.Architecture.X86_64,
        code=code,
        **props,
    )
    checkov_skip(
        function,
        "CKV_AWS_115",
        "no reserved concurrency: each of our functions runs a few times per deploy or rotation, and "
        "reserving any fails the deploy in accounts whose unreserved concurrency would drop below 10",
    )
    checkov_skip(
        function,
        "CKV_AWS_173",
        "the environment holds only names (stage, cluster, service, secret name, topic ARN), never a "
        "secret; Lambda encrypts it at rest with its own key already",
    )
    return function


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    root = PACKAGE_DIR.parents[1]
    target = Path(args[0]) if args else root / "build" / "lambda"
    try:
        build(target, root / "constraints.txt")
    except WmsError as error:
        print(f"error: {error}", file=sys.stderr)  # noqa: T201
        return 1
    print(f"Lambda bundle built in {target}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
