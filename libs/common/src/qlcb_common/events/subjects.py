"""Every event subject of the system. Subjects read like sentences: qlcb.<service>.<thing>.<what happened>."""

PERSONNEL_UNIT_ESTABLISHED = "qlcb.personnel.unit.established"
PERSONNEL_UNIT_RENAMED = "qlcb.personnel.unit.renamed"
PERSONNEL_UNIT_MOVED = "qlcb.personnel.unit.moved"
PERSONNEL_UNIT_DISSOLVED = "qlcb.personnel.unit.dissolved"
PERSONNEL_UNIT_MERGED = "qlcb.personnel.unit.merged"
PERSONNEL_UNIT_SPLIT = "qlcb.personnel.unit.split"
PERSONNEL_UNIT_QUOTA_SET = "qlcb.personnel.unit.quota_set"
PERSONNEL_PERSON_CREATED = "qlcb.personnel.person.created"
PERSONNEL_PERSON_RETIRED = "qlcb.personnel.person.retired"
PERSONNEL_PERSON_RESIGNED = "qlcb.personnel.person.resigned"
PERSONNEL_PERSON_DIED = "qlcb.personnel.person.died"
PERSONNEL_PERSON_MOVED_OUT = "qlcb.personnel.person.moved_out"
PERSONNEL_PERSON_REINSTATED = "qlcb.personnel.person.reinstated"
PERSONNEL_PERSON_TRANSFERRED = "qlcb.personnel.person.transferred"
PERSONNEL_RECORD_CHANGED = "qlcb.personnel.record.changed"
PERSONNEL_DECISION_CHANGED = "qlcb.personnel.decision.changed"
PERSONNEL_CATALOG_CHANGED = "qlcb.personnel.catalog.changed"
PERSONNEL_AUDIT_SEALED = "qlcb.personnel.audit.sealed"
PERSONNEL_PERSON_LEFT = (
    PERSONNEL_PERSON_RETIRED,
    PERSONNEL_PERSON_RESIGNED,
    PERSONNEL_PERSON_DIED,
    PERSONNEL_PERSON_MOVED_OUT,
)
PERSONNEL_ALL = "qlcb.personnel.>"
BACKUP_RUN_COMPLETED = "qlcb.backup.run.completed"
BACKUP_SET_COMPLETED = "qlcb.backup.set.completed"
BACKUP_SET_FAILED = "qlcb.backup.set.failed"
BACKUP_SET_PRUNED = "qlcb.backup.set.pruned"
BACKUP_RESTORE_REQUESTED = "qlcb.backup.restore.requested"
BACKUP_RESTORE_CANCELLED = "qlcb.backup.restore.cancelled"
BACKUP_RESTORE_VERIFIED = "qlcb.backup.restore.verified"
BACKUP_RESTORE_FAILED = "qlcb.backup.restore.failed"
BACKUP_RESTORE_SWITCHED = "qlcb.backup.restore.switched"
BACKUP_DRILL_PASSED = "qlcb.backup.drill.passed"
BACKUP_DRILL_FAILED = "qlcb.backup.drill.failed"
IDENTITY_DELEGATION_GRANTED = "qlcb.identity.delegation.granted"
IDENTITY_DELEGATION_REVOKED = "qlcb.identity.delegation.revoked"
IDENTITY_DELEGATIONS = "qlcb.identity.delegation.*"
IDENTITY_HOLDER_RECORDED = "qlcb.identity.holder.recorded"
REPORTS_PERIOD_OPENED = "qlcb.reports.period.opened"
REPORTS_SUBMISSION_SUBMITTED = "qlcb.reports.submission.submitted"
REPORTS_SUBMISSION_RECALLED = "qlcb.reports.submission.recalled"
REPORTS_SUBMISSION_RETURNED = "qlcb.reports.submission.returned"
REPORTS_SUBMISSION_APPROVED = "qlcb.reports.submission.approved"
REPORTS_SUBMISSION_REOPENED = "qlcb.reports.submission.reopened"
REPORTS_ASSIGNMENT_UNLOCKED = "qlcb.reports.assignment.unlocked"
REPORTS_REMINDER_DUE = "qlcb.reports.reminder.due"
REPORTS_ROLLUP_SENT = "qlcb.reports.rollup.sent"
REPORTS_ROLLUP_FAILED = "qlcb.reports.rollup.failed"
REPORTS_SIGNING_KEY_ROTATED = "qlcb.reports.signing_key.rotated"
REPORTS_SIGNING_KEY_REVOKED = "qlcb.reports.signing_key.revoked"
REPORTS_STATISTICS_FORM_READ = "qlcb.reports.statistics_form.read"
REPORTS_STATISTICS_FORM_EXPORTED = "qlcb.reports.statistics_form.exported"
REPORTS_STATISTICS_PEOPLE_READ = "qlcb.reports.statistics_people.read"
REPORTS_REPORT_EXPORTED = "qlcb.reports.report.exported"
REPORTS_STATISTICS_READS = (
    REPORTS_STATISTICS_FORM_READ,
    REPORTS_STATISTICS_FORM_EXPORTED,
    REPORTS_STATISTICS_PEOPLE_READ,
    REPORTS_REPORT_EXPORTED,
)
REPORTS_SUBMISSION_CHANGES = (
    REPORTS_SUBMISSION_SUBMITTED,
    REPORTS_SUBMISSION_RECALLED,
    REPORTS_SUBMISSION_RETURNED,
    REPORTS_SUBMISSION_APPROVED,
    REPORTS_SUBMISSION_REOPENED,
)
