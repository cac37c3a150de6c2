"""The imported VPC and the Connect service's security group.

Rules (**contract**): Connect REST 8083 reachable only from the group itself (workers forward
REST writes to the leader); egress only to Oracle's port, the MSK broker ports, 8083 to itself,
and 443 for AWS APIs (ECR, Secrets Manager, CloudWatch Logs, ECS Exec). There is no allow-all
rule in either direction.

Why 443 goes to ``0.0.0.0/0``: the stage's VPC is shared and we cannot know (without a lookup)
whether it has interface endpoints for every AWS API the task needs, nor the region's S3 prefix
list id for ECR layers; restricting it to the VPC CIDR would break image pulls in a NAT-only VPC.
The rule is port-scoped. Oracle and MSK live outside this VPC (on-premises / BigMAC), so their
rules are port-scoped to any IPv4 too.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from wms_connector.secrets.shapes import VpcInfo

CONNECT_REST_PORT = 8083
HTTPS_PORT = 443


def import_vpc(scope: Construct, id_: str, vpc: VpcInfo) -> ec2.IVpc:
    """The existing VPC by attributes: no lookup, so synth needs no AWS credentials."""
    imported = ec2.Vpc.from_vpc_attributes(
        scope,
        id_,
        vpc_id=vpc.id,
        vpc_cidr_block=vpc.cidr,
        availability_zones=list(vpc.availability_zones),
        private_subnet_ids=list(vpc.private_subnets),
    )
    Validations.of(imported).acknowledge(
        Acknowledgment(
            id="Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId",
            reason="nothing here reads the subnets' route tables (no endpoints or routes are added to the "
            "shared VPC)",
        )
    )
    return imported


def broker_ports(ports: tuple[int, ...]) -> tuple[int, ...]:
    """Distinct ports, sorted, so the template is stable whatever the broker order."""
    return tuple(sorted(set(ports)))


class ConnectSecurityGroup(Construct):
    """The workers' security group; ``self.group`` is what the service attaches."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vpc: ec2.IVpc,
        group_name: str,
        oracle_port: int,
        kafka_ports: tuple[int, ...],
        oracle_cidr: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.group = ec2.SecurityGroup(
            self,
            "Group",
            vpc=vpc,
            security_group_name=group_name,
            description=f"{group_name}: Kafka Connect workers (REST only between workers)",
            allow_all_outbound=False,
        )
        rest = ec2.Port.tcp(CONNECT_REST_PORT)
        self.group.add_ingress_rule(self.group, rest, "Connect REST from the other workers only")
        self.group.add_egress_rule(self.group, rest, "Connect REST forwarding to the leader worker")
        # Oracle's network when dbInfo gives it (``cidr``), else anywhere on Oracle's port only.
        oracle = ec2.Peer.ipv4(oracle_cidr) if oracle_cidr else ec2.Peer.any_ipv4()
        self.group.add_egress_rule(oracle, ec2.Port.tcp(oracle_port), "Oracle listener")
        for port in broker_ports(kafka_ports):
            self.group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(port), f"MSK brokers :{port}")
        self.group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS_PORT), "AWS APIs (ECR, Secrets Manager, Logs, Exec)"
        )


def kafka_client_group(
    scope: Construct, id_: str, *, vpc: ec2.IVpc, group_name: str, kafka_ports: tuple[int, ...]
) -> ec2.SecurityGroup:
    """A group for a Kafka admin client (the topics Lambda): MSK ports and 443 out, nothing in."""
    group = ec2.SecurityGroup(
        scope,
        id_,
        vpc=vpc,
        security_group_name=group_name,
        description=f"{group_name}: Kafka admin client, no inbound",
        allow_all_outbound=False,
    )
    for port in broker_ports(kafka_ports):
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(port), f"MSK brokers :{port}")
    group.add_egress_rule(
        ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS_PORT), "AWS APIs (SNS, CloudFormation response URL)"
    )
    return group
