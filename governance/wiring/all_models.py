"""Imports every table module so ``Base.metadata`` is complete (Alembic, tests)."""

from governance.alerts.models import Alert, Subscription
from governance.core.db import Base
from governance.core.generation import DataGeneration
from governance.core.leases import Lease
from governance.core.seen_requests import SeenRequest
from governance.licenses.models import OpennessOverride, PolicySetting
from governance.registry.models import (
    Approval,
    Approver,
    AuditEvent,
    ModelAlias,
    RequestCard,
    TrackedModel,
)
from governance.upstream.check_requests import CheckRequest
from governance.upstream.models import (
    AuthorRepo,
    Change,
    Check,
    LicenseText,
    RecheckCycle,
    Snapshot,
    WatchState,
)

metadata = Base.metadata

__all__ = [
    "Alert",
    "Approval",
    "Approver",
    "AuditEvent",
    "AuthorRepo",
    "Change",
    "Check",
    "CheckRequest",
    "DataGeneration",
    "Lease",
    "LicenseText",
    "ModelAlias",
    "OpennessOverride",
    "PolicySetting",
    "RecheckCycle",
    "RequestCard",
    "SeenRequest",
    "Snapshot",
    "Subscription",
    "TrackedModel",
    "WatchState",
    "metadata",
]
