"""All ORM models, one table per private module. Import models from here.

Tables with an ``lg_code`` column are municipal: on PostgreSQL they are under row-level security
(see ``MUNICIPAL_TABLES`` and the initial migration).
"""

from server.db.models._attachment import Attachment
from server.db.models._audit_event import AuditEvent
from server.db.models._audit_head import AuditHead
from server.db.models._auth_session import AuthSession
from server.db.models._base import Base, UTCDateTime, utcnow
from server.db.models._eform_application import Application
from server.db.models._eform_attachment import ApplicationFile
from server.db.models._eform_procedure import Procedure
from server.db.models._eform_procedure_role import ProcedureRole
from server.db.models._eform_procedure_version import ProcedureVersion
from server.db.models._eform_return import ApplicationReturn
from server.db.models._eform_signature import ApplicationSignature
from server.db.models._group import Group
from server.db.models._group_permission import GroupPermission
from server.db.models._mail_outbox import OutboxMail
from server.db.models._municipality import Municipality
from server.db.models._network_allowance import NetworkAllowance
from server.db.models._organisation import Organisation
from server.db.models._organisation_member import OrganisationMember
from server.db.models._payment import Payment
from server.db.models._payment_webhook import PaymentWebhook
from server.db.models._phrase import Phrase
from server.db.models._purge_item import PurgeItem
from server.db.models._purge_job import PurgeJob
from server.db.models._reception import Reception
from server.db.models._reception_counter import ReceptionCounter
from server.db.models._reception_person import ReceptionPerson
from server.db.models._reception_search_key import ReceptionSearchKey
from server.db.models._report_file import ReportFile
from server.db.models._resident import Resident
from server.db.models._resident_account import ResidentAccount
from server.db.models._resident_account_application import ResidentAccountApplication
from server.db.models._retention_class import RetentionClass
from server.db.models._scheduled_run import ScheduledRun
from server.db.models._user import User
from server.db.models._user_group import UserGroup

#: Tables under row-level security on PostgreSQL: every table with lg_code except the registry.
MUNICIPAL_TABLES: tuple[str, ...] = tuple(
    t.name for t in Base.metadata.sorted_tables if "lg_code" in t.c and t.name != "municipalities"
)

__all__ = [
    "MUNICIPAL_TABLES",
    "Application",
    "ApplicationFile",
    "ApplicationReturn",
    "ApplicationSignature",
    "Attachment",
    "AuditEvent",
    "AuditHead",
    "AuthSession",
    "Base",
    "Group",
    "GroupPermission",
    "Municipality",
    "NetworkAllowance",
    "Organisation",
    "OrganisationMember",
    "OutboxMail",
    "Payment",
    "PaymentWebhook",
    "Phrase",
    "Procedure",
    "ProcedureRole",
    "ProcedureVersion",
    "PurgeItem",
    "PurgeJob",
    "Reception",
    "ReceptionCounter",
    "ReceptionPerson",
    "ReceptionSearchKey",
    "ReportFile",
    "Resident",
    "ResidentAccount",
    "ResidentAccountApplication",
    "RetentionClass",
    "ScheduledRun",
    "UTCDateTime",
    "User",
    "UserGroup",
    "utcnow",
]
