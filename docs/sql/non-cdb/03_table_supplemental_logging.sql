-- wms-connector (non-CDB): ALL COLUMNS supplemental logging on the four captured tables.
-- Reviewed and run by the DBA, never by wms-connector. See docs/wms-config-details.md.
-- Run as SYSDBA (or the table owners, or a user with ALTER ANY TABLE).
-- Without it Debezium only logs a warning and then emits updates without the unchanged columns.
-- Check: SELECT OWNER, TABLE_NAME FROM DBA_LOG_GROUPS WHERE LOG_GROUP_TYPE = 'ALL COLUMN LOGGING';
WHENEVER SQLERROR EXIT SQL.SQLCODE

-- @fix table_supplemental_logging
ALTER TABLE MMDL.PLAN_BASE_WVR_TBL ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS;
ALTER TABLE MMDL.PLAN_WVR_RVSN_TBL ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS;
ALTER TABLE WMS.PLAN_BASE_WVR_TBL ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS;
ALTER TABLE WMS.PLAN_WVR_RVSN_TBL ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS;
-- @end
