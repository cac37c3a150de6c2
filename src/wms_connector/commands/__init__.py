"""CLI command groups: one module each, every one exposing ``register(app)``."""
