"""The revision files; a package only so the wheel carries them (Alembic skips this file)."""
