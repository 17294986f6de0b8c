"""Imports every table module so ``Base.metadata`` is complete (Alembic, tests)."""

from governance.db import Base
from governance.leases import Lease
from governance.licenses.models import PolicySetting
from governance.registry.models import Approval, Approver, AuditEvent, ModelAlias, TrackedModel

metadata = Base.metadata

__all__ = [
    "Approval",
    "Approver",
    "AuditEvent",
    "Lease",
    "ModelAlias",
    "PolicySetting",
    "TrackedModel",
    "metadata",
]
