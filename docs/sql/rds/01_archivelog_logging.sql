-- wms-connector on Amazon RDS for Oracle (non-CDB): archiving, retention, supplemental logging.
-- Reviewed and run by the DBA, never by wms-connector. RDS has no SYSDBA: these are the rdsadmin
-- equivalents of docs/sql/common/01, 02 and 05. Run as the RDS master user.
-- ARCHIVELOG: RDS runs in ARCHIVELOG mode whenever automated backups are on (backup retention
-- of at least 1 day). There is no ALTER DATABASE ARCHIVELOG on RDS.
-- Variable: ARCHIVE_HOURS (24 main/val, 72 production): how long archived logs stay on the
-- instance's storage (they count against allocated storage; size it for that many hours).
WHENEVER SQLERROR EXIT SQL.SQLCODE

BEGIN
  rdsadmin.rdsadmin_util.set_configuration(name => 'archivelog retention hours', value => '&&ARCHIVE_HOURS');
END;
/
COMMIT;

-- Minimal supplemental logging, database-wide (ALTER DATABASE ADD SUPPLEMENTAL LOG DATA).
BEGIN
  rdsadmin.rdsadmin_util.alter_supplemental_logging(p_action => 'ADD');
END;
/

-- ALL COLUMNS on the four captured tables: plain SQL works on RDS (as master or the owners).
ALTER TABLE MMDL.PLAN_BASE_WVR_TBL ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS;
ALTER TABLE MMDL.PLAN_WVR_RVSN_TBL ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS;
ALTER TABLE WMS.PLAN_BASE_WVR_TBL ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS;
ALTER TABLE WMS.PLAN_WVR_RVSN_TBL ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS;

-- Redo logs (replace small groups): add bigger ones, switch until the old ones are INACTIVE, drop.
--   EXEC rdsadmin.rdsadmin_util.add_logfile(p_size => '1G');   (three times)
--   EXEC rdsadmin.rdsadmin_util.switch_logfile;
--   EXEC rdsadmin.rdsadmin_util.checkpoint;
--   EXEC rdsadmin.rdsadmin_util.drop_logfile(grp => <n>);
-- Undo retention: set undo_retention in the instance's DB parameter group.
