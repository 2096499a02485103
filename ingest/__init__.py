"""From devices to the database: the MQTT contract, the project's broker, the ingest workers."""
