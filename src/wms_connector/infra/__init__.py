"""The AWS infrastructure of a stage as CDK constructs: two stacks, ``wms-alerts-S`` and ``wms-connector-S``.

Each logical unit is one construct in its own module; the stacks only compose and wire them; the
per-stage choices (sizes, counts, retention, removal) are made once, in :mod:`.inputs`, from
``stages.settings_for`` and the resolved secrets, and passed down as typed keyword arguments.
"""

import os as _os

# jsii prints a boxed banner on stderr for a Node version it no longer lists as supported; synth
# works the same, so keep the CLI's output clean. Must be set before aws_cdk (jsii) is imported.
# The end-of-life variable is a list of Node major versions to silence.
_os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
_os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")
