"""The local runtime: the pinned jars (fetched with Maven), a real KRaft broker and real Kafka
Connect workers as background processes on loopback ports. See ``docs/runtime.md``."""
