"""Every event subject of the system. Subjects read like sentences: qlcb.<service>.<thing>.<what happened>."""

PERSONNEL_UNIT_ESTABLISHED = "qlcb.personnel.unit.established"
PERSONNEL_PERSON_CREATED = "qlcb.personnel.person.created"
PERSONNEL_ALL = "qlcb.personnel.>"
BACKUP_RUN_COMPLETED = "qlcb.backup.run.completed"
IDENTITY_DELEGATION_GRANTED = "qlcb.identity.delegation.granted"
IDENTITY_DELEGATION_REVOKED = "qlcb.identity.delegation.revoked"
IDENTITY_DELEGATIONS = "qlcb.identity.delegation.*"
