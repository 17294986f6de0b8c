"""Bolt listeners, one module per listener kind, each with an explicit ``register(app)``."""
