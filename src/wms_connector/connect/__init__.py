"""Kafka Connect: the connector and worker configurations of a stage, our stricter checks of them,
the generated property reference (pure), and the REST client that applies them (``rest``)."""
