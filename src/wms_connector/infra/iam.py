"""Roles built the one way every role of a stage is built: name from naming, optional IAM path.

The optional permissions boundary is applied to the whole stack (``iam.PermissionsBoundary``) by
the stacks, so no role can be created without it.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct


def service_role(
    scope: Construct, id_: str, *, role_name: str, service: str, path: str | None, description: str
) -> iam.Role:
    return iam.Role(
        scope,
        id_,
        role_name=role_name,
        assumed_by=iam.ServicePrincipal(service),
        path=path,
        description=description,
    )
