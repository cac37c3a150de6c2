"""Small readers over synthesized templates (no logical ids written by hand)."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Template

from tests.infra.conftest import Synthesized
from wms_connector.naming import names_for
from wms_connector.stages import Stage


def connector(synthesized: Synthesized, stage: str) -> Template:
    return Template.from_json(synthesized.template(names_for(Stage(stage)).connector_stack))


def alerts(synthesized: Synthesized, stage: str) -> Template:
    return Template.from_json(synthesized.template(names_for(Stage(stage)).alerts_stack))


def flatten(value: Any) -> str:
    """An intrinsic ARN as text: ``Fn::Join`` joined, ``Ref``/``GetAtt`` shown as ``<...>``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return str(sep).join(flatten(p) for p in parts)
    if isinstance(value, dict) and "Ref" in value:
        return "aws" if value["Ref"] == "AWS::Partition" else f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    if isinstance(value, dict) and "Fn::ImportValue" in value:
        return f"<import:{value['Fn::ImportValue']}>"
    return repr(value)


def statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every IAM policy statement of every role/policy in a template."""
    found: list[dict[str, Any]] = []
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Policy":
            found += props["PolicyDocument"]["Statement"]
        if resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                found += policy["PolicyDocument"]["Statement"]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
