"""TEST ONLY: Debezium's real Oracle metrics objects in a JVM with no database (see
``StreamingMetricsDriver.java``), scraped through the image's JMX exporter agent and rules."""
