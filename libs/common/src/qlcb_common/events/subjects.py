"""Every event subject of the system. Subjects read like sentences: qlcb.<service>.<thing>.<what happened>."""

PERSONNEL_UNIT_ESTABLISHED = "qlcb.personnel.unit.established"
PERSONNEL_PERSON_CREATED = "qlcb.personnel.person.created"
PERSONNEL_PERSON_RETIRED = "qlcb.personnel.person.retired"
PERSONNEL_PERSON_RESIGNED = "qlcb.personnel.person.resigned"
PERSONNEL_PERSON_DIED = "qlcb.personnel.person.died"
PERSONNEL_PERSON_REINSTATED = "qlcb.personnel.person.reinstated"
PERSONNEL_PERSON_LEFT = (PERSONNEL_PERSON_RETIRED, PERSONNEL_PERSON_RESIGNED, PERSONNEL_PERSON_DIED)
PERSONNEL_ALL = "qlcb.personnel.>"
BACKUP_RUN_COMPLETED = "qlcb.backup.run.completed"
IDENTITY_DELEGATION_GRANTED = "qlcb.identity.delegation.granted"
IDENTITY_DELEGATION_REVOKED = "qlcb.identity.delegation.revoked"
IDENTITY_DELEGATIONS = "qlcb.identity.delegation.*"
