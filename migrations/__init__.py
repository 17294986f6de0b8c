"""Alembic's scripts for modelgov, shipped in the wheel as a package.

``governance.core.migrate`` finds this folder with ``importlib.resources``, so an installed
modelgov migrates exactly as a checkout does. Nothing here is imported as code: Alembic loads
``env.py`` and the revision files by path.
"""
