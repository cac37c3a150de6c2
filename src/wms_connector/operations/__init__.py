"""Day-2 operations on a running stage as commands (``wms-connector ops ...``).

Pure part (what to send and in which order, decided from naming and the connector's own answers):
``tables.py`` (the captured tables an operator may name), ``signals.py`` (Debezium signal records),
``procedures.py`` (which connector states each action accepts, the steps of each procedure, exit
codes), ``positions.py`` (offsets read, saved and restored), ``remote.py`` (the ECS Exec
invocation of ``--remote``), ``audit.py`` (the one structured line per command).
Shell: ``shell.py`` talks to Kafka Connect, the brokers and the JMX exporter.
"""
