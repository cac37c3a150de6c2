"""Synthesize stages in-process (no CDK CLI): resolve inputs, build one app, write the cloud assembly."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wms_connector.infra.inputs import StageInputs


@dataclass(frozen=True)
class SynthResult:
    """Where the assembly went and each stack's template, by stack name."""

    outdir: Path
    templates: dict[str, Path]
    nag_report: dict[str, Any]

    def template(self, stack_name: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.templates[stack_name].read_text(encoding="utf-8"))
        return loaded


def synth(stages: Sequence[StageInputs], outdir: Path) -> SynthResult:
    """One app for all ``stages`` (one jsii process); cdk-nag runs as a validation plugin and any
    unacknowledged finding raises (the CDK ``ValidationFailed`` error) before this returns."""
    from wms_connector.infra.app import build_app

    # Absolute: the jsii kernel (node) resolves a relative path against its own working
    # directory, which is where this process was when it first imported aws_cdk.
    app, stacks = build_app(stages, outdir.resolve())
    assembly = app.synth()
    templates = {
        stack.stack_name: Path(assembly.directory) / stack.template_file
        for pair in stacks
        for stack in (pair.alerts, pair.connector)
    }
    report_path = Path(assembly.directory) / "validation-report.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    return SynthResult(Path(assembly.directory), templates, report)
