-- wms-connector (CDB): the heartbeat and signal tables, in the CDC user's own schema in the PDB.
-- Reviewed and run by the DBA, never by wms-connector. Why: docs/wms-config-details.md,
-- "Heartbeat and signal tables". Run as SYSDBA in CDB$ROOT after 04_cdc_user.sql.
-- Heartbeat: the connector updates its one row every heartbeat (heartbeat.action.query), so a
-- quiet PDB still moves the connector's offset forward. Signal: Debezium writes incremental-
-- snapshot watermarks here. Both are captured, hence ALL COLUMNS logging on them too.
-- Variables: CDC_USER, PDB_NAME. The owner needs no grant on its own tables.
WHENEVER SQLERROR EXIT SQL.SQLCODE

-- @fix heartbeat_signal_tables
ALTER SESSION SET CONTAINER = &&PDB_NAME;
CREATE TABLE &&CDC_USER..WMS_CDC_HEARTBEAT (ID NUMBER(1) DEFAULT 1 NOT NULL PRIMARY KEY CHECK (ID = 1), TS TIMESTAMP(6) WITH TIME ZONE NOT NULL);
INSERT INTO &&CDC_USER..WMS_CDC_HEARTBEAT (ID, TS) VALUES (1, SYSTIMESTAMP);
COMMIT;
CREATE TABLE &&CDC_USER..WMS_CDC_SIGNAL (ID VARCHAR2(42) PRIMARY KEY, TYPE VARCHAR2(32) NOT NULL, DATA VARCHAR2(2048));
ALTER TABLE &&CDC_USER..WMS_CDC_HEARTBEAT ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS;
ALTER TABLE &&CDC_USER..WMS_CDC_SIGNAL ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS;
ALTER SESSION SET CONTAINER = CDB$ROOT;
-- @end
