"""The bottom layer: database, clock, errors, settings, leases and schema upkeep. No domain."""
