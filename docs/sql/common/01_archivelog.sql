-- wms-connector: put the database in ARCHIVELOG mode.
-- Reviewed and run by the DBA, never by wms-connector. See docs/wms-config-details.md, "ARCHIVELOG".
-- Run as SYSDBA in SQL*Plus. For a CDB: in CDB$ROOT (the mode is database-wide).
-- This RESTARTS the instance: plan a window. Check first: SELECT LOG_MODE FROM V$DATABASE;
-- The archive destination (fast recovery area) must exist before: see 05_redo_and_archive.sql.
-- Not for Amazon RDS: there, turning on automated backups does this (docs/sql/rds/).
WHENEVER SQLERROR EXIT SQL.SQLCODE

-- @fix archivelog
SHUTDOWN IMMEDIATE
STARTUP MOUNT
ALTER DATABASE ARCHIVELOG;
ALTER DATABASE OPEN;
-- @end
