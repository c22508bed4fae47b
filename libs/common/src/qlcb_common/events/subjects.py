"""Every event subject of the system. Subjects read like sentences: qlcb.<service>.<thing>.<what happened>."""

PERSONNEL_UNIT_ESTABLISHED = "qlcb.personnel.unit.established"
PERSONNEL_PERSON_CREATED = "qlcb.personnel.person.created"
PERSONNEL_ALL = "qlcb.personnel.>"
BACKUP_RUN_COMPLETED = "qlcb.backup.run.completed"
