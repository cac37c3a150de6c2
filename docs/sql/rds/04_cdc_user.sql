-- wms-connector on Amazon RDS for Oracle (non-CDB): the CDC user and its grants.
-- Reviewed and run by the DBA, never by wms-connector. Run as the RDS master user.
-- Grants on SYS objects go through rdsadmin.rdsadmin_util.grant_sys_object (the master user
-- cannot GRANT them directly); system privileges and roles are plain GRANTs.
-- Variable: CDC_USER in UPPERCASE (grant_sys_object takes the name as stored, e.g. WMS_CDC).
-- The password is asked for without echo. RDS uses Oracle-managed files.
WHENEVER SQLERROR EXIT SQL.SQLCODE
SET VERIFY OFF
ACCEPT CDC_PASSWORD CHAR PROMPT 'Password for the CDC user: ' HIDE

CREATE TABLESPACE LOGMINER_TBS DATAFILE SIZE 25M AUTOEXTEND ON MAXSIZE 1G;
CREATE USER &&CDC_USER IDENTIFIED BY "&&CDC_PASSWORD" DEFAULT TABLESPACE LOGMINER_TBS QUOTA UNLIMITED ON LOGMINER_TBS;

GRANT CREATE SESSION TO &&CDC_USER;
GRANT LOGMINING TO &&CDC_USER;
GRANT CREATE TABLE TO &&CDC_USER;
GRANT CREATE SEQUENCE TO &&CDC_USER;
GRANT SELECT ANY TRANSACTION TO &&CDC_USER;
GRANT SELECT_CATALOG_ROLE TO &&CDC_USER;
GRANT EXECUTE_CATALOG_ROLE TO &&CDC_USER;

BEGIN
  rdsadmin.rdsadmin_util.grant_sys_object('DBMS_LOGMNR', '&&CDC_USER', 'EXECUTE');
  rdsadmin.rdsadmin_util.grant_sys_object('DBMS_LOGMNR_D', '&&CDC_USER', 'EXECUTE');
  rdsadmin.rdsadmin_util.grant_sys_object('V_$DATABASE', '&&CDC_USER', 'SELECT');
  rdsadmin.rdsadmin_util.grant_sys_object('V_$LOG', '&&CDC_USER', 'SELECT');
  rdsadmin.rdsadmin_util.grant_sys_object('V_$LOG_HISTORY', '&&CDC_USER', 'SELECT');
  rdsadmin.rdsadmin_util.grant_sys_object('V_$LOGMNR_LOGS', '&&CDC_USER', 'SELECT');
  rdsadmin.rdsadmin_util.grant_sys_object('V_$LOGMNR_CONTENTS', '&&CDC_USER', 'SELECT');
  rdsadmin.rdsadmin_util.grant_sys_object('V_$LOGMNR_PARAMETERS', '&&CDC_USER', 'SELECT');
  rdsadmin.rdsadmin_util.grant_sys_object('V_$LOGFILE', '&&CDC_USER', 'SELECT');
  rdsadmin.rdsadmin_util.grant_sys_object('V_$ARCHIVED_LOG', '&&CDC_USER', 'SELECT');
  rdsadmin.rdsadmin_util.grant_sys_object('V_$ARCHIVE_DEST_STATUS', '&&CDC_USER', 'SELECT');
  rdsadmin.rdsadmin_util.grant_sys_object('V_$TRANSACTION', '&&CDC_USER', 'SELECT');
  rdsadmin.rdsadmin_util.grant_sys_object('V_$MYSTAT', '&&CDC_USER', 'SELECT');
  rdsadmin.rdsadmin_util.grant_sys_object('V_$STATNAME', '&&CDC_USER', 'SELECT');
END;
/

GRANT SELECT ON MMDL.PLAN_BASE_WVR_TBL TO &&CDC_USER;
GRANT FLASHBACK ON MMDL.PLAN_BASE_WVR_TBL TO &&CDC_USER;
GRANT SELECT ON MMDL.PLAN_WVR_RVSN_TBL TO &&CDC_USER;
GRANT FLASHBACK ON MMDL.PLAN_WVR_RVSN_TBL TO &&CDC_USER;
GRANT SELECT ON WMS.PLAN_BASE_WVR_TBL TO &&CDC_USER;
GRANT FLASHBACK ON WMS.PLAN_BASE_WVR_TBL TO &&CDC_USER;
GRANT SELECT ON WMS.PLAN_WVR_RVSN_TBL TO &&CDC_USER;
GRANT FLASHBACK ON WMS.PLAN_WVR_RVSN_TBL TO &&CDC_USER;

-- Heartbeat and signal tables: docs/sql/non-cdb/07_heartbeat_signal_tables.sql runs unchanged on RDS.
