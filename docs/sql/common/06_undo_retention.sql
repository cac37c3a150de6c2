-- wms-connector: undo retention for the initial snapshot (flashback queries AS OF SCN).
-- Reviewed and run by the DBA, never by wms-connector. See docs/wms-config-details.md, "Undo".
-- Run as SYSDBA (CDB: in CDB$ROOT; with local undo you may set it in the PDB instead).
-- Variable: UNDO_SECONDS, longer than the snapshot of the four tables will take (3600 by default).
-- It may go back to its old value once the connector reports the snapshot completed.
-- Amazon RDS: change undo_retention in the DB parameter group instead.
WHENEVER SQLERROR EXIT SQL.SQLCODE

-- @fix undo_retention
ALTER SYSTEM SET UNDO_RETENTION = &&UNDO_SECONDS SCOPE=BOTH;
-- @end
