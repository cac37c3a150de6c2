-- wms-connector: redo log groups, the archive destination, archive retention.
-- Reviewed and run by the DBA, never by wms-connector. Sizing and arithmetic:
-- docs/wms-config-details.md, "Redo logs" and "Archive log retention".
-- Run as SYSDBA (CDB: in CDB$ROOT). Assumes Oracle-managed files (DB_CREATE_FILE_DEST set);
-- otherwise add a file name to each ADD LOGFILE.
-- Variables: REDO_SIZE (e.g. 1G), FRA_DIR, FRA_SIZE (e.g. 500G), ARCHIVE_HOURS (24 main/val, 72 production).
WHENEVER SQLERROR EXIT SQL.SQLCODE

-- @fix redo_logs
-- At least 3 groups per redo thread, each at least 200M (1G or more in production). Repeat per
-- THREAD# of V$LOG (RAC). Pick group numbers not used in V$LOG.
ALTER DATABASE ADD LOGFILE THREAD 1 GROUP 11 SIZE &&REDO_SIZE;
ALTER DATABASE ADD LOGFILE THREAD 1 GROUP 12 SIZE &&REDO_SIZE;
ALTER DATABASE ADD LOGFILE THREAD 1 GROUP 13 SIZE &&REDO_SIZE;
-- Then, once V$LOG shows an old small group INACTIVE (ALTER SYSTEM SWITCH LOGFILE and
-- ALTER SYSTEM CHECKPOINT move it along), drop it: ALTER DATABASE DROP LOGFILE GROUP <n>;
-- @end

-- @fix archive_destination
-- Exactly one LOCAL destination with STATUS VALID, here the fast recovery area. If you keep
-- several, give the connector archive.destination.name (Debezium picks at random otherwise).
ALTER SYSTEM SET DB_RECOVERY_FILE_DEST_SIZE = &&FRA_SIZE SCOPE=BOTH;
ALTER SYSTEM SET DB_RECOVERY_FILE_DEST = '&&FRA_DIR' SCOPE=BOTH;
ALTER SYSTEM SET LOG_ARCHIVE_DEST_1 = 'LOCATION=USE_DB_RECOVERY_FILE_DEST VALID_FOR=(ALL_LOGFILES,ALL_ROLES)' SCOPE=BOTH;
ALTER SYSTEM SET LOG_ARCHIVE_DEST_STATE_1 = ENABLE SCOPE=BOTH;
-- @end

-- @fix archive_retention
-- Archived logs must stay on disk at least &&ARCHIVE_HOURS hours: that is the longest connector
-- outage a restart can bridge. Make the fast recovery area big enough for that many hours of
-- archives (peak log switches per hour x redo size x hours, plus margin), and make the RMAN purge
-- job keep them that long (RMAN, not SQL*Plus):
--   CONFIGURE ARCHIVELOG DELETION POLICY TO BACKED UP 1 TIMES TO DISK;
--   DELETE NOPROMPT ARCHIVELOG ALL COMPLETED BEFORE 'SYSDATE - &&ARCHIVE_HOURS/24';
ALTER SYSTEM SET DB_RECOVERY_FILE_DEST_SIZE = &&FRA_SIZE SCOPE=BOTH;
-- @end
