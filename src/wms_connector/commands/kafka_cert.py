"""``wms-connector kafka-cert write``: the ``kafkaClientCert`` secret as the mtls client's files.

Two sources: the task's secrets container gets the whole secret from ECS in one environment
variable (``--from-env WMS_KAFKA_CLIENT_CERT``); an operator reads it from Secrets Manager (or a
secrets file) for a stage, with the usual fallback ``wms/<stage>/`` -> ``wms/default/``. Either
way the secret is validated first (key matches, not expired) and nothing is written when it is not.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from wms_connector.commands.common import JsonOption, OfflineOption, SecretsFileOption
from wms_connector.connect.secret_refs import ClientTlsFiles
from wms_connector.errors import InputError
from wms_connector.kafka.acls import kafka_acls_commands, stage_acls
from wms_connector.naming import names_for
from wms_connector.output import console, markup, print_json
from wms_connector.secrets.client_cert import KafkaClientCert
from wms_connector.secrets.client_cert_files import write_client_tls_files
from wms_connector.secrets.shapes import KAFKA_CLIENT_CERT
from wms_connector.secrets.store import backend_for, parse_secret, resolve
from wms_connector.stages import Stage

app = typer.Typer(help="The Kafka client certificate of kafka_auth = mtls (the kafkaClientCert secret).")


def _from_env(variable: str) -> KafkaClientCert:
    text = os.environ.get(variable)
    if not text:
        raise InputError(
            f"{variable} is not set; the secrets container gets the kafkaClientCert secret there from ECS"
        )
    return parse_secret(KAFKA_CLIENT_CERT, f"${variable}", text)


@app.command("write")
def write_command(  # noqa: PLR0917 - typer maps each CLI option to a parameter
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            metavar="DIR",
            help="where to write the files (created 0700 if missing; default with --stage: "
            "~/.wms-connector/kafka-tls/STAGE)",
        ),
    ] = None,
    from_env: Annotated[
        str | None,
        typer.Option(
            "--from-env", metavar="VAR", help="read the secret's JSON from this environment variable"
        ),
    ] = None,
    stage: Annotated[
        str | None, typer.Option("--stage", "-s", help="read the stage's kafkaClientCert secret")
    ] = None,
    secrets_file: SecretsFileOption = None,
    offline: OfflineOption = False,
    region: Annotated[str | None, typer.Option("--region", help="AWS region of the secret")] = None,
    as_json: JsonOption = False,
) -> None:
    """Validate the client certificate and write its files (mode 0400) for WMS_KAFKA_TLS_DIR."""
    parsed = Stage.parse(stage) if stage is not None else None
    if (from_env is None) == (parsed is None):
        raise InputError("kafka-cert write needs exactly one of --from-env VAR or --stage STAGE")
    if parsed is not None:
        chosen = directory or Path.home() / ".wms-connector" / "kafka-tls" / parsed.name
        found = resolve(parsed, KAFKA_CLIENT_CERT, backend_for(secrets_file, offline, region))
        cert, source = found.value, found.path
    else:
        if directory is None:
            raise InputError(
                "kafka-cert write --from-env needs --dir DIR (the secrets container: its volume)"
            )
        chosen = directory
        cert, source = _from_env(str(from_env)), f"${from_env}"
    target = chosen.expanduser().resolve()
    if not target.exists():
        target.mkdir(mode=0o700, parents=True)
    written = write_client_tls_files(cert, ClientTlsFiles(str(target)))
    summary = {
        "source": source,
        "directory": str(target),
        "files": list(written),
        "principal": cert.principal,
        "not_after": cert.not_after.isoformat(),
        "ca_bundle": cert.ca_bundle is not None,
    }
    if as_json:
        print_json(summary)
        return
    console.print(
        markup(
            "wrote the Kafka client certificate of {} (valid until {}) from {} into {}",
            cert.principal,
            f"{cert.not_after:%Y-%m-%d %H:%M} UTC",
            source,
            str(target),
        )
    )


@app.command("acls")
def acls_command(  # noqa: PLR0917 - typer maps each CLI option to a parameter
    stage: Annotated[str, typer.Option("--stage", "-s", help="the stage whose ACLs to print")],
    principal: Annotated[
        str | None,
        typer.Option("--principal", metavar="User:CN=...", help="the certificate's Kafka principal"),
    ] = None,
    from_secret: Annotated[
        bool, typer.Option("--from-secret", help="the principal of the stage's stored kafkaClientCert")
    ] = False,
    bootstrap: Annotated[
        str, typer.Option("--bootstrap", metavar="HOST:PORT", help="the bootstrap the lines name")
    ] = "BOOTSTRAP",
    secrets_file: SecretsFileOption = None,
    offline: OfflineOption = False,
    region: Annotated[str | None, typer.Option("--region", help="AWS region of the secret")] = None,
    as_json: JsonOption = False,
) -> None:
    """The ACLs the stage's certificate principal needs, as kafka-acls.sh lines (docs/stream.md)."""
    parsed = Stage.parse(stage)
    if (principal is None) == (not from_secret):
        raise InputError("kafka-cert acls needs exactly one of --principal User:CN=... or --from-secret")
    if principal is None:
        found = resolve(parsed, KAFKA_CLIENT_CERT, backend_for(secrets_file, offline, region))
        principal = found.value.principal
    if not principal.startswith("User:") or len(principal) <= len("User:"):
        raise InputError(f"--principal {principal!r} is not a Kafka principal; give User:<subject>")
    names = names_for(parsed)
    if as_json:
        print_json(
            {
                "stage": parsed.name,
                "principal": principal,
                "acls": [
                    {
                        "resource": acl.resource.value,
                        "name": acl.name,
                        "pattern": acl.pattern.value,
                        "operations": list(acl.operations),
                        "why": acl.why,
                    }
                    for acl in stage_acls(names)
                ],
            }
        )
        return
    for line in kafka_acls_commands(names, principal, bootstrap):
        print(line)  # noqa: T201 - shell lines, to copy or pipe


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="kafka-cert")
