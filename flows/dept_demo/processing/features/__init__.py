"""Category features: its flow and tasks."""
