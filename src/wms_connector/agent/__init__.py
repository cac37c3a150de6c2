"""The connect-agent: the sidecar in every Connect task that reconciles the connector, judges its
health, restarts what failed on its own worker and emits metrics. Pure policy beside a thin loop."""
