"""The Fargate task definitions of a stage (the Connect service's, the scheduled audit's): one shape."""

from __future__ import annotations

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct


def fargate_task_definition(
    scope: Construct,
    *,
    family: str,
    cpu: int,
    memory_mib: int,
    execution_role: iam.IRole,
    task_role: iam.IRole,
) -> ecs.FargateTaskDefinition:
    """Construct id ``TaskDefinition`` under ``scope``; x86_64 Linux, the platform the image and
    its jlinked JRE are built for (image/context.py)."""
    return ecs.FargateTaskDefinition(
        scope,
        "TaskDefinition",
        family=family,
        cpu=cpu,
        memory_limit_mib=memory_mib,
        execution_role=execution_role,
        task_role=task_role,
        runtime_platform=ecs.RuntimePlatform(
            cpu_architecture=ecs.CpuArchitecture.X86_64,
            operating_system_family=ecs.OperatingSystemFamily.LINUX,
        ),
    )
