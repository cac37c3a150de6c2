-- wms-connector: minimal supplemental logging for the whole database.
-- Reviewed and run by the DBA, never by wms-connector. See docs/wms-config-details.md.
-- Run as SYSDBA. For a CDB: in CDB$ROOT (Oracle accepts this statement only there).
-- Check first: SELECT SUPPLEMENTAL_LOG_DATA_MIN FROM V$DATABASE;  (want YES or IMPLICIT)
-- Online: no restart. Amazon RDS: docs/sql/rds/01_archivelog_logging.sql instead.
WHENEVER SQLERROR EXIT SQL.SQLCODE

-- @fix database_supplemental_logging
ALTER DATABASE ADD SUPPLEMENTAL LOG DATA;
-- @end
