/*
 * TEST ONLY (tests/integration/test_oracle_metrics.py): Debezium's own Oracle metrics objects in a
 * JVM with no database, driven through the states the connect-agent judges.
 *
 * Launched as a single source file (`java -cp <the Oracle plugin's jars> StreamingMetricsDriver.java
 * CONNECTOR.properties`) with the image's JMX exporter agent and rules attached. It builds what
 * OracleConnectorTask.start() builds for metrics, with the same calls, from the connector config the
 * product derives (written by the test): the OracleConnectorConfig, the OracleTaskContext, the
 * change event queue, the adapter's streaming metrics (LogMinerStreamingChangeEventSourceMetrics for
 * database.connection.adapter=logminer) and the snapshot metrics of OracleChangeEventSourceMetricsFactory.
 * Then it registers them as ChangeEventSourceCoordinator does and reads one command per line on
 * stdin, answering "ok <command>" (or "error <text>") on stdout after applying it:
 *
 *   connected true|false          DefaultStreamingChangeEventSourceMetrics.connected
 *   current-scn N                 setCurrentScn
 *   offset-scn N                  setOffsetScn (the low watermark, the offset's scn)
 *   commit-scn N                  setCommitScn (the offset's commit_scn)
 *   oldest-scn N AGE_MS           setOldestScnDetails(N, now - AGE_MS): the oldest buffered transaction
 *   oldest-scn empty              setOldestScnDetails(Scn.valueOf(-1), null): the call the buffered LogMiner
 *                                 source makes when its transaction cache is empty (calculateSmallestScn)
 *   active-transactions N         setActiveTransactionCount
 *   scn-freeze                    incrementScnFreezeCount
 *   event SCHEMA.TABLE LAG_MS SCN TXID   one captured change (onEvent) committed LAG_MS ago
 *   snapshot started|completed    the snapshot metrics, as the snapshot source reports them
 *   register | unregister         both MBeans, as the coordinator does at start and stop
 *   class                         answers "ok class <streaming metrics class> <snapshot metrics class>"
 *   names                         answers "ok names <ObjectName as registered> ..." (debezium.* domains)
 *   attributes                    answers "ok attributes <Name>:<open type>:<set|null> ..." of the streaming MBean
 *   quit
 */

import java.io.BufferedReader;
import java.io.FileReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Constructor;
import java.time.Instant;
import java.util.List;
import java.util.Properties;

import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;

import io.debezium.config.Configuration;
import io.debezium.connector.base.ChangeEventQueue;
import io.debezium.connector.oracle.AbstractOracleStreamingChangeEventSourceMetrics;
import io.debezium.connector.oracle.OracleChangeEventSourceMetricsFactory;
import io.debezium.connector.oracle.OracleConnectorConfig;
import io.debezium.connector.oracle.OraclePartition;
import io.debezium.connector.oracle.OracleTaskContext;
import io.debezium.connector.oracle.Scn;
import io.debezium.connector.oracle.logminer.LogMinerStreamingChangeEventSourceMetrics;
import io.debezium.data.Envelope;
import io.debezium.pipeline.DataChangeEvent;
import io.debezium.pipeline.metrics.SnapshotChangeEventSourceMetrics;
import io.debezium.pipeline.source.spi.EventMetadataProvider;
import io.debezium.relational.TableId;
import io.debezium.util.Strings;

public class StreamingMetricsDriver {

    public static void main(String[] args) throws Exception {
        Properties properties = new Properties();
        try (FileReader reader = new FileReader(args[0])) {
            properties.load(reader);
        }
        Configuration config = Configuration.from(properties);
        OracleConnectorConfig connectorConfig = new OracleConnectorConfig(config);
        OracleTaskContext taskContext = new OracleTaskContext(config, connectorConfig);
        ChangeEventQueue<DataChangeEvent> queue = new ChangeEventQueue.Builder<DataChangeEvent>()
                .pollInterval(connectorConfig.getPollInterval())
                .maxBatchSize(connectorConfig.getMaxBatchSize())
                .maxQueueSize(connectorConfig.getMaxQueueSize())
                .maxQueueSizeInBytes(connectorConfig.getMaxQueueSizeInBytes())
                .build();
        // The connector's own provider (package-private in Debezium: created the way the task does, by its constructor).
        Constructor<?> provider = Class.forName("io.debezium.connector.oracle.OracleEventMetadataProvider").getDeclaredConstructor();
        provider.setAccessible(true);
        EventMetadataProvider metadataProvider = (EventMetadataProvider) provider.newInstance();
        AbstractOracleStreamingChangeEventSourceMetrics streaming = connectorConfig.getAdapter()
                .getStreamingMetrics(taskContext, queue, metadataProvider, connectorConfig, List::of);
        OracleChangeEventSourceMetricsFactory factory = new OracleChangeEventSourceMetricsFactory(streaming);
        SnapshotChangeEventSourceMetrics<OraclePartition> snapshot = factory.getSnapshotMetrics(taskContext, queue, metadataProvider);
        String database = Strings.isNullOrBlank(connectorConfig.getPdbName()) ? connectorConfig.getDatabaseName() : connectorConfig.getPdbName();
        OraclePartition partition = new OraclePartition(connectorConfig.getLogicalName(), database);

        Schema sourceSchema = SchemaBuilder.struct()
                .field("ts_ms", Schema.INT64_SCHEMA)
                .field("scn", Schema.OPTIONAL_STRING_SCHEMA)
                .field("txId", Schema.OPTIONAL_STRING_SCHEMA)
                .build();
        Schema valueSchema = SchemaBuilder.struct().field(Envelope.FieldName.SOURCE, sourceSchema).build();

        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null) {
            String[] word = line.trim().split("\\s+");
            try {
                LogMinerStreamingChangeEventSourceMetrics logMiner = (LogMinerStreamingChangeEventSourceMetrics) streaming;
                switch (word[0]) {
                    case "connected" -> streaming.connected(Boolean.parseBoolean(word[1]));
                    case "current-scn" -> logMiner.setCurrentScn(Scn.valueOf(word[1]));
                    case "offset-scn" -> logMiner.setOffsetScn(Scn.valueOf(word[1]));
                    case "commit-scn" -> logMiner.setCommitScn(Scn.valueOf(word[1]));
                    case "oldest-scn" -> {
                        if ("empty".equals(word[1])) {
                            logMiner.setOldestScnDetails(Scn.valueOf(-1), null);
                        }
                        else {
                            logMiner.setOldestScnDetails(Scn.valueOf(word[1]), Instant.now().minusMillis(Long.parseLong(word[2])));
                        }
                    }
                    case "active-transactions" -> logMiner.setActiveTransactionCount(Long.parseLong(word[1]));
                    case "scn-freeze" -> logMiner.incrementScnFreezeCount();
                    case "event" -> {
                        Struct source = new Struct(sourceSchema)
                                .put("ts_ms", System.currentTimeMillis() - Long.parseLong(word[2]))
                                .put("scn", word[3])
                                .put("txId", word[4]);
                        Struct value = new Struct(valueSchema).put(Envelope.FieldName.SOURCE, source);
                        TableId table = TableId.parse(database + "." + word[1]);
                        streaming.onEvent(partition, table, null, null, value, Envelope.Operation.UPDATE);
                    }
                    case "snapshot" -> {
                        if ("started".equals(word[1])) {
                            snapshot.snapshotStarted(partition);
                        }
                        else {
                            snapshot.snapshotCompleted(partition);
                        }
                    }
                    case "register" -> {
                        snapshot.register();
                        streaming.register();
                    }
                    case "unregister" -> {
                        snapshot.unregister();
                        streaming.unregister();
                    }
                    case "class" -> {
                        System.out.println("ok class " + streaming.getClass().getName() + " " + snapshot.getClass().getName());
                        continue;
                    }
                    case "names" -> {
                        StringBuilder names = new StringBuilder("ok names");
                        for (ObjectName name : server.queryNames(new ObjectName("debezium.*:*"), null)) {
                            names.append(' ').append(name);
                        }
                        System.out.println(names);
                        continue;
                    }
                    case "attributes" -> {
                        ObjectName name = new ObjectName(server.queryNames(new ObjectName("debezium.oracle:context=streaming,*"), null)
                                .iterator().next().toString());
                        StringBuilder attributes = new StringBuilder("ok attributes");
                        for (MBeanAttributeInfo info : server.getMBeanInfo(name).getAttributes()) {
                            Object value = server.getAttribute(name, info.getName());
                            attributes.append(' ').append(info.getName()).append(':').append(info.getType())
                                    .append(':').append(value == null ? "null" : "set");
                        }
                        System.out.println(attributes);
                        continue;
                    }
                    case "quit" -> {
                        System.out.println("ok quit");
                        return;
                    }
                    default -> throw new IllegalArgumentException("unknown command " + word[0]);
                }
                System.out.println("ok " + line.trim());
            }
            catch (RuntimeException | JMException error) {
                System.out.println("error " + line.trim() + ": " + error);
            }
            System.out.flush();
        }
    }
}
